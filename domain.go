package tagd

import (
	"encoding/json"
	"time"
)

// Status is the status of a folder, tag group or batch.
type Status string

// Statuses of folders, groups and batches. Tags use TagActive/TagInactive,
// spelled as ixkio's Management API spells them.
const (
	StatusActive   Status = "active"
	StatusInactive Status = "inactive"
	TagActive      Status = "Active"
	TagInactive    Status = "Inactive"
)

// GroupType is the type of a tag group.
type GroupType string

// Tag group types: standard tags (NTAG213, ICODE, …) and authentication
// tags (NTAG 424 DNA), whose group carries a SUN profile.
const (
	GroupStandard       GroupType = "standard"
	GroupAuthentication GroupType = "authentication"
)

// Account is the top of the hierarchy (ixkio's AID).
type Account struct {
	AID  string `json:"aid"`
	Name string `json:"name"`
	// MgmtTokenHash is the SHA-256 of the Management API token; the token
	// itself is never stored.
	MgmtTokenHash []byte    `json:"mgmt_token_hash,omitempty"`
	APIDisabled   bool      `json:"api_disabled,omitempty"`
	Created       time.Time `json:"created"`
}

// Folder is an ixkio Active Folder in API response mode.
type Folder struct {
	ID   string `json:"id"`
	AID  string `json:"aid"`
	Name string `json:"name"`
	// TokenHash is the SHA-256 of the folder's API token (≤ 32
	// alphanumerics); empty means open access.
	TokenHash []byte `json:"token_hash,omitempty"`
	// CORS is "", "*" or one origin.
	CORS   string     `json:"cors,omitempty"`
	Status Status     `json:"status"`
	Fields []ExtField `json:"fields,omitempty"`
}

// ExtField is an extended-data field defined by a folder.
type ExtField struct {
	Name string `json:"name"`
	// Type is "text", "date" or "json".
	Type string `json:"type"`
	// AddToResponse adds the field as a top-level key of API responses.
	AddToResponse bool `json:"add_to_response,omitempty"`
}

// TagGroup is a group of tags of one type with a shared ruleset and, for
// authentication groups, a SUN profile.
type TagGroup struct {
	ID       string            `json:"id"`
	FolderID string            `json:"folder_id"`
	Name     string            `json:"name"`
	Type     GroupType         `json:"type"`
	Status   Status            `json:"status"`
	Ruleset  Ruleset           `json:"ruleset"`
	Extended map[string]string `json:"extended,omitempty"`
	Profile  *SUNProfile       `json:"profile,omitempty"`
	// Rev is incremented by the store on every change of the group or its
	// keys, so that verifiers can cache expanded keys by (ID, Rev).
	Rev uint64 `json:"rev"`
}

// Batch is a batch of tags in a group.
type Batch struct {
	ID      string `json:"id"`
	GroupID string `json:"group_id"`
	Name    string `json:"name"`
	Status  Status `json:"status"`
}

// NFT is the NFT data of a tag.
type NFT struct {
	Chain    string `json:"chain,omitempty"`
	Contract string `json:"contract,omitempty"`
	Token    string `json:"token,omitempty"`
	Owner    string `json:"owner,omitempty"`
}

// Tag is an ixkio Tag Code.
type Tag struct {
	XUID    string `json:"xuid"`
	AID     string `json:"aid"`
	BatchID string `json:"batch_id"`
	// UID is the chip UID in uppercase hex; CUID the customer's id
	// (case-sensitive). Both are unique within an account when set.
	UID        string            `json:"uid,omitempty"`
	CUID       string            `json:"cuid,omitempty"`
	Name       string            `json:"name,omitempty"`
	Status     Status            `json:"status"`
	Assigned   bool              `json:"assigned,omitempty"`
	AssignedAt time.Time         `json:"assigned_at,omitzero"`
	CreatedAt  time.Time         `json:"created_at"`
	NFT        NFT               `json:"nft,omitzero"`
	Ruleset    *Ruleset          `json:"ruleset,omitempty"` // nil: inherit the group's
	Extended   map[string]string `json:"extended,omitempty"`
	// Counters, kept by the store.
	ScanCount uint64 `json:"scan_count"`
	ChipCount uint64 `json:"chip_count"`
	// LastCounter is the last accepted SUN counter; HasCounter is false
	// until the first accepted tap.
	LastCounter uint32 `json:"last_counter"`
	HasCounter  bool   `json:"has_counter,omitempty"`
}

// Ruleset is a default response and up to three rule groups; the first
// group whose rules all match gives the response.
type Ruleset struct {
	Default string      `json:"default"`
	Groups  []RuleGroup `json:"groups,omitempty"`
}

// MaxRuleGroups is the number of rule groups a ruleset may hold.
const MaxRuleGroups = 3

// RuleGroup is a response and the rules that must all match for it.
type RuleGroup struct {
	Response string `json:"response"`
	Rules    []Rule `json:"rules"`
}

// RuleType names a kind of rule.
type RuleType string

// Rule types that make sense on the appliance (ixkio.md §4.2).
const (
	RuleScanCount RuleType = "scan_count" // Op lt|gt|eq|ne, Value an integer
	RuleTagAuth   RuleType = "tag_auth"   // Op "pass"
	RuleTamper    RuleType = "tamper"     // Op eq|ne, Value a tamper status
	RuleNFTStatus RuleType = "nft_status" // Op eq|ne, Value "No Data"|"Contract Only"|"Owner Set"
)

// Rule is one condition of a rule group.
type Rule struct {
	Type  RuleType `json:"type"`
	Op    string   `json:"op"`
	Value string   `json:"value,omitempty"`
}

// SUNProfile says how the SUN messages of an authentication group are
// verified (SPEC §4).
type SUNProfile struct {
	// Mode is "aes", "lrp" or "auto".
	Mode string `json:"mode"`
	// Params are the URL parameter names, by role.
	Params SUNParams `json:"params"`
	// MACInput is "empty", "at:PARAM" or "from:TEXT".
	MACInput string `json:"mac_input"`
	// FileKeySource is where the SDMFileReadKey comes from: "tag" (a
	// per-tag imported key), "static" (the group's key), or a KDF
	// ("an10922", "sdm-standard", "sdm-legacy", "boltcard") applied to the
	// group's master key.
	FileKeySource string `json:"file_key_source"`
	// KDF parameters, for FileKeySource KDFs.
	KDFAID      string `json:"kdf_aid,omitempty"`       // hex, an10922
	KDFSystemID string `json:"kdf_system_id,omitempty"` // hex, an10922
	KDFKeyNo    int    `json:"kdf_key_no,omitempty"`    // sdm-standard, sdm-legacy
	KDFVersion  uint32 `json:"kdf_version,omitempty"`   // boltcard
	// TamperOffset is the offset of the TagTamper status in the decrypted
	// file data, or -1.
	TamperOffset int `json:"tamper_offset"`
}

// SUNParams are the names of the SUN parameters in a tag URL.
type SUNParams struct {
	PICC string `json:"picc,omitempty"`
	Enc  string `json:"enc,omitempty"`
	MAC  string `json:"mac,omitempty"`
	UID  string `json:"uid,omitempty"`
	Ctr  string `json:"ctr,omitempty"`
	Bulk string `json:"bulk,omitempty"`
	Sep  string `json:"sep,omitempty"`
}

// Secret is key material. It never prints, logs or marshals its bytes.
type Secret []byte

// String hides the value.
func (Secret) String() string { return "[secret]" }

// GoString hides the value from %#v.
func (Secret) GoString() string { return "[secret]" }

// MarshalJSON hides the value.
func (Secret) MarshalJSON() ([]byte, error) { return json.Marshal("[secret]") }

// Keys is the key material of a group (meta key, static file key or KDF
// master) or of a tag (its own file key, optionally its own meta key).
type Keys struct {
	Meta   Secret
	File   Secret
	Master Secret
}

// Scan is one entry of the scan log: a tap on a reader or an API lookup,
// with its verdict.
type Scan struct {
	Seq    uint64    `json:"seq"`
	Time   time.Time `json:"time"`
	Source string    `json:"source"` // "api", "reader:NAME"
	XUID   string    `json:"xuid,omitempty"`
	AID    string    `json:"aid,omitempty"`
	UID    string    `json:"uid,omitempty"`
	// Counter is the SUN counter of the tap, if it carried one.
	Counter    uint32 `json:"counter,omitempty"`
	HasCounter bool   `json:"has_counter,omitempty"`
	// Auth is "pass", "fail" or "" (no SUN check); Reason the verdict
	// reason when it failed.
	Auth      string `json:"auth,omitempty"`
	Reason    Code   `json:"reason,omitempty"`
	Tamper    string `json:"tamper,omitempty"`
	Response  string `json:"response,omitempty"`
	Error     string `json:"error,omitempty"`
	ScanCount uint64 `json:"scan_count,omitempty"`
}

// API key scopes (SPEC §7).
const (
	ScopePublic  = "public"  // read-only lookups
	ScopePrivate = "private" // management
	ScopeAdmin   = "admin"   // everything
	ScopeSync    = "sync"    // a device syncing with the hub
)

// APIKey is an API key as stored: the secret only as its SHA-256. The key
// a client presents is "ID.Secret".
type APIKey struct {
	ID          string    `json:"id"`
	AID         string    `json:"aid,omitempty"`
	Name        string    `json:"name"`
	Description string    `json:"description,omitempty"`
	Scopes      []string  `json:"scopes"`
	SecretHash  []byte    `json:"secret_hash"`
	Created     time.Time `json:"created"`
	LastUsed    time.Time `json:"last_used,omitzero"`
	Expires     time.Time `json:"expires,omitzero"`
	Disabled    bool      `json:"disabled,omitempty"`
	AllowIPs    []string  `json:"allow_ips,omitempty"`
}
