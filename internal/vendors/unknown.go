package vendors

import "errors"

// UnknownMembersError is a vendor's refusal of a call that added members, for
// a reason that means some of them are users the vendor does not know (not
// imported, not in the organisation, a mistyped ID). It says which IDs the
// call tried to add, and which the vendor named as unknown where it names
// them, so the caller can apply everything else and isolate the unknown ones.
// It wraps the classified error (ErrInvalid): a caller that does not isolate
// sees an invalid request.
type UnknownMembersError struct {
	// Err is the classified vendor error.
	Err error
	// Candidates are the IDs the refused call tried to add: at least one of them
	// is unknown to the vendor.
	Candidates []string
	// IDs are the IDs the vendor named as unknown; empty when it names none.
	IDs []string
}

func (e *UnknownMembersError) Error() string { return e.Err.Error() }

// Unwrap returns the classified error.
func (e *UnknownMembersError) Unwrap() error { return e.Err }

// UnknownMembers marks err, the refusal of a call that added candidates, as
// caused by unknown users (ids: the ones the vendor named, if any).
func UnknownMembers(err error, candidates, ids []string) error {
	return &UnknownMembersError{Err: err, Candidates: candidates, IDs: ids}
}

// AsUnknownMembers returns err's UnknownMembersError, if it has one.
func AsUnknownMembers(err error) (*UnknownMembersError, bool) {
	var e *UnknownMembersError
	ok := errors.As(err, &e)
	return e, ok
}
