package httpapi

import (
	"crypto/sha256"
	"net/http"
	"net/url"
	"time"

	"github.com/tagd-nfc/tagd"
)

// AccountInfo is an account as the CRUD routes show it: never its
// Management API token or the token's hash, only whether it has one.
type AccountInfo struct {
	AID          string    `json:"aid"`
	Name         string    `json:"name"`
	MgmtTokenSet bool      `json:"mgmt_token_set"`
	APIDisabled  bool      `json:"api_disabled"`
	Created      time.Time `json:"created"`
}

// AccountInfoOf returns the shown part of an account.
func AccountInfoOf(a *tagd.Account) AccountInfo {
	return AccountInfo{AID: a.AID, Name: a.Name, MgmtTokenSet: len(a.MgmtTokenHash) > 0, APIDisabled: a.APIDisabled, Created: a.Created}
}

// NewAccount is the body of POST /api/v1/accounts. MgmtToken is the
// Management API token (1 to 128 printable ASCII characters without
// spaces; stored as its SHA-256); "" leaves the account without one.
type NewAccount struct {
	AID         string `json:"aid"`
	Name        string `json:"name"`
	MgmtToken   string `json:"mgmt_token"`
	APIDisabled bool   `json:"api_disabled"`
}

// AccountChange is the body of PATCH /api/v1/accounts/{aid}: the fields
// present are changed. A null or "" mgmt_token removes the token.
type AccountChange struct {
	Name        opt[string] `json:"name"`
	MgmtToken   opt[string] `json:"mgmt_token"`
	APIDisabled opt[bool]   `json:"api_disabled"`
}

// maxMgmtToken bounds a Management API token.
const maxMgmtToken = 128

// tokenHash checks a Management API token and returns its SHA-256, nil
// for "".
func tokenHash(tok string) ([]byte, error) {
	if tok == "" {
		return nil, nil
	}
	if len(tok) > maxMgmtToken {
		return nil, &tagd.Error{Code: tagd.CodeInvalid, Field: "mgmt_token", Message: "mgmt_token: at most 128 printable ASCII characters without spaces"}
	}
	for i := 0; i < len(tok); i++ {
		if tok[i] <= ' ' || tok[i] > '~' {
			return nil, &tagd.Error{Code: tagd.CodeInvalid, Field: "mgmt_token", Message: "mgmt_token: at most 128 printable ASCII characters without spaces"}
		}
	}
	h := sha256.Sum256([]byte(tok))
	return h[:], nil
}

// accountNotFound is the answer for an account the caller cannot see.
func accountNotFound(aid string) error { return tagd.NotFound("aid", "account %q not found", aid) }

// handleAccountList is GET /api/v1/accounts: every account the key
// reaches, by AID.
func (s *Server) handleAccountList(w http.ResponseWriter, r *http.Request) {
	st, ok := s.catalog(w)
	if !ok {
		return
	}
	var accounts []tagd.Account
	if ka := keyAccount(r); ka != "" {
		a, err := st.Account(r.Context(), ka)
		if err != nil && tagd.ErrorCode(err) != tagd.CodeNotFound {
			s.writeError(w, err)
			return
		}
		if a != nil {
			accounts = append(accounts, *a)
		}
	} else {
		var err error
		if accounts, err = st.Accounts(r.Context()); err != nil {
			s.writeError(w, err)
			return
		}
	}
	out := make([]AccountInfo, 0, len(accounts))
	for i := range accounts {
		out = append(out, AccountInfoOf(&accounts[i]))
	}
	s.writeValue(w, http.StatusOK, out)
}

// handleAccountGet is GET /api/v1/accounts/{id}.
func (s *Server) handleAccountGet(w http.ResponseWriter, r *http.Request) {
	st, ok := s.catalog(w)
	if !ok {
		return
	}
	aid := r.PathValue("id")
	if !reaches(r, aid) {
		s.writeError(w, accountNotFound(aid))
		return
	}
	a, err := st.Account(r.Context(), aid)
	if err != nil {
		s.writeError(w, err)
		return
	}
	s.writeValue(w, http.StatusOK, AccountInfoOf(a))
}

// handleAccountCreate is POST /api/v1/accounts (NewAccount): 201. Keys of
// an account cannot create accounts.
func (s *Server) handleAccountCreate(w http.ResponseWriter, r *http.Request) {
	st, ok := s.catalog(w)
	if !ok {
		return
	}
	if keyAccount(r) != "" {
		s.writeError(w, authErr(CodeInsufficientScope, "only the appliance's own API keys create accounts"))
		return
	}
	var body NewAccount
	if err := decodeBody(w, r, &body); err != nil {
		s.writeError(w, err)
		return
	}
	hash, err := tokenHash(body.MgmtToken)
	if err != nil {
		s.writeError(w, err)
		return
	}
	a := tagd.Account{AID: body.AID, Name: body.Name, MgmtTokenHash: hash, APIDisabled: body.APIDisabled}
	if err := st.CreateAccount(r.Context(), a); err != nil {
		s.writeError(w, err)
		return
	}
	got, err := st.Account(r.Context(), a.AID)
	if err != nil {
		s.writeError(w, err)
		return
	}
	s.created(w, "/api/v1/accounts/"+url.PathEscape(got.AID), AccountInfoOf(got))
}

// handleAccountPatch is PATCH /api/v1/accounts/{id} (AccountChange).
func (s *Server) handleAccountPatch(w http.ResponseWriter, r *http.Request) {
	st, ok := s.catalog(w)
	if !ok {
		return
	}
	aid := r.PathValue("id")
	if !reaches(r, aid) {
		s.writeError(w, accountNotFound(aid))
		return
	}
	var ch AccountChange
	if err := decodeBody(w, r, &ch); err != nil {
		s.writeError(w, err)
		return
	}
	apply, err := ch.prepare()
	if err != nil {
		s.writeError(w, err)
		return
	}
	if err := st.UpdateAccount(r.Context(), aid, apply); err != nil {
		s.writeError(w, err)
		return
	}
	a, err := st.Account(r.Context(), aid)
	if err != nil {
		s.writeError(w, err)
		return
	}
	s.writeValue(w, http.StatusOK, AccountInfoOf(a))
}

// prepare checks the change and returns the function that applies it.
func (ch *AccountChange) prepare() (func(*tagd.Account) error, error) {
	if !ch.Name.Set && !ch.MgmtToken.Set && !ch.APIDisabled.Set {
		return nil, nothingToChange("name, mgmt_token, api_disabled")
	}
	name, err := ch.Name.get("name")
	if err != nil {
		return nil, err
	}
	hash, err := tokenHash(ch.MgmtToken.V)
	if err != nil {
		return nil, err
	}
	disabled, err := ch.APIDisabled.get("api_disabled")
	if err != nil {
		return nil, err
	}
	return func(a *tagd.Account) error {
		if ch.Name.Set {
			a.Name = name
		}
		if ch.MgmtToken.Set {
			a.MgmtTokenHash = hash
		}
		if ch.APIDisabled.Set {
			a.APIDisabled = disabled
		}
		return nil
	}, nil
}

// handleAccountDelete is DELETE /api/v1/accounts/{id}: 204; 409 while
// folders or API keys belong to the account. Keys of an account cannot
// delete accounts.
func (s *Server) handleAccountDelete(w http.ResponseWriter, r *http.Request) {
	st, ok := s.catalog(w)
	if !ok {
		return
	}
	if keyAccount(r) != "" {
		s.writeError(w, authErr(CodeInsufficientScope, "only the appliance's own API keys delete accounts"))
		return
	}
	if err := st.DeleteAccount(r.Context(), r.PathValue("id")); err != nil {
		s.writeError(w, err)
		return
	}
	deleted(w)
}
