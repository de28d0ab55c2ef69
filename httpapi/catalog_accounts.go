package httpapi

import (
	"crypto/sha256"
	"net/http"
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

// accountHandlers returns the handlers of /api/v1/accounts. GET lists
// every account the key reaches, by AID. Keys of an account cannot create
// or delete accounts; DELETE is 409 while folders or API keys belong to
// the account.
func (s *Server) accountHandlers() catalogHandlers {
	k := catalogKind[tagd.Account]{name: "accounts", applianceOnly: true, id: func(a *tagd.Account) string { return a.AID },
		reach: reachAccount, load: CatalogStore.Account, show: shown(AccountInfoOf), remove: CatalogStore.DeleteAccount}
	list := s.catalogHandler(func(w http.ResponseWriter, r *http.Request, st CatalogStore) error {
		accounts, err := keyAccounts(r, st)
		if err != nil {
			return err
		}
		return k.writeList(s, w, r, st, accounts)
	})
	return catalogResource(s, k, list, createAccount, patchAccount)
}

// keyAccounts returns the accounts the calling key reaches: its own (none
// when it is gone), or every account.
func keyAccounts(r *http.Request, st CatalogStore) ([]tagd.Account, error) {
	ka := keyAccount(r)
	if ka == "" {
		return st.Accounts(r.Context())
	}
	a, err := st.Account(r.Context(), ka)
	if err != nil && tagd.ErrorCode(err) != tagd.CodeNotFound {
		return nil, err
	}
	if a == nil {
		return nil, nil
	}
	return []tagd.Account{*a}, nil
}

// reachAccount checks that the calling key reaches account aid; it reads
// nothing.
func reachAccount(r *http.Request, _ CatalogStore, aid string) (*tagd.Account, error) {
	if !reaches(r, aid) {
		return nil, accountNotFound(aid)
	}
	return nil, nil
}

// createAccount is POST /api/v1/accounts (NewAccount).
func createAccount(r *http.Request, st CatalogStore, body *NewAccount) (*tagd.Account, error) {
	hash, err := tokenHash(body.MgmtToken)
	if err != nil {
		return nil, err
	}
	a := tagd.Account{AID: body.AID, Name: body.Name, MgmtTokenHash: hash, APIDisabled: body.APIDisabled}
	if err := st.CreateAccount(r.Context(), a); err != nil {
		return nil, err
	}
	return st.Account(r.Context(), a.AID)
}

// patchAccount is PATCH /api/v1/accounts/{id} (AccountChange).
func patchAccount(r *http.Request, st CatalogStore, id string, ch *AccountChange) error {
	apply, err := ch.prepare()
	if err != nil {
		return err
	}
	return st.UpdateAccount(r.Context(), id, apply)
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
