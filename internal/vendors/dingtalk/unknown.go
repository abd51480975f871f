package dingtalk

import (
	"errors"
	"slices"
	"strings"
	"unicode"

	"github.com/chatgroup-operator/chatgroup-operator/internal/vendors"
)

// codeParameterInvalid is group/update's answer to a userId the organisation
// does not have, among other invalid input (vendor-apis.md §1.4.2: the errors
// are create's, and create documents no more specific code for members).
const codeParameterInvalid = "parameter.invalid"

// unknownMembers marks a parameter.invalid refusal of a call that added
// userIds as possibly caused by unknown users, naming those the vendor's
// message names: the caller then applies the rest and isolates them. Any
// other error is returned as it is.
func unknownMembers(err error, adds []string) error {
	var e *vendors.Error
	if len(adds) == 0 || !errors.As(err, &e) || e.Code != codeParameterInvalid {
		return err
	}
	words := strings.FieldsFunc(e.Message, func(r rune) bool {
		return unicode.IsSpace(r) || strings.ContainsRune(`,;:"'()[]{}`, r)
	})
	var named []string
	for _, w := range words {
		if w = strings.TrimRight(w, "."); slices.Contains(adds, w) && !slices.Contains(named, w) {
			named = append(named, w)
		}
	}
	return vendors.UnknownMembers(err, adds, named)
}
