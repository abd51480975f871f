package tencentim

// Codes that refuse a call for accounts IM does not have (vendor-apis.md §2:
// add_group_member "Unknown account gives 10019"; 70107 "account not
// imported"). add_group_member then fails as a whole, naming no account in a
// documented field, so the caller isolates the unknown ones.
const (
	codeAccountNotFound    = 10019
	codeAccountNotImported = 70107
)
