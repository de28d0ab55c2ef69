package httpapi

import (
	"bytes"
	"encoding/json"

	"github.com/tagd-nfc/tagd"
)

// This file holds the decoding of the CRUD routes' request bodies: strict
// JSON, and PATCH fields that tell "absent" from "null" from a value.

// nothingToChange is the error of a PATCH whose body sets no field.
func nothingToChange(fields string) error {
	return &tagd.Error{Code: tagd.CodeInvalid, Field: "body", Message: "nothing to change: send a JSON object with one or more of " + fields}
}

// opt is a field of a PATCH body: Set when the field was present, Null
// when its value was null, V its value otherwise. Its value is decoded
// strictly (unknown fields in nested objects are errors).
type opt[T any] struct {
	Set, Null bool
	V         T
}

// UnmarshalJSON records that the field is present and decodes its value.
func (o *opt[T]) UnmarshalJSON(b []byte) error {
	o.Set = true
	if string(b) == "null" {
		o.Null = true
		return nil
	}
	return decodeStrict(b, &o.V)
}

// get returns the value of a field that may not be null.
func (o *opt[T]) get(field string) (T, error) {
	if o.Null {
		var zero T
		return zero, &tagd.Error{Code: tagd.CodeInvalid, Field: field, Message: field + " cannot be null"}
	}
	return o.V, nil
}

// patchStatus returns the value of the status field of a PATCH body,
// which may be neither null nor "": values names the two statuses for the
// error.
func patchStatus(o *opt[tagd.Status], values string) (tagd.Status, error) {
	status, err := o.get("status")
	if err == nil && o.Set && status == "" {
		err = &tagd.Error{Code: tagd.CodeInvalid, Field: "status", Message: "status must be " + values}
	}
	return status, err
}

// decodeStrict decodes one JSON value, refusing unknown fields.
func decodeStrict(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	return dec.Decode(v)
}
