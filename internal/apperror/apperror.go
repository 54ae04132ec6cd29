// Package apperror is Koe's one error type: a code every client can act on,
// a message safe to show, and for bad input the field at fault. Transports map
// codes in one place each (the GraphQL error presenter, the REST handlers);
// anything that is not an *Error is internal and never shown.
package apperror

import (
	"errors"
	"fmt"
	"time"
)

// Code is the machine-readable kind of an error, as api.graphql lists them.
type Code string

// The codes of api.graphql, plus NotImplemented for fields of later issues.
const (
	Unauthenticated         Code = "UNAUTHENTICATED"
	Forbidden               Code = "FORBIDDEN"
	NotFound                Code = "NOT_FOUND"
	BadUserInput            Code = "BAD_USER_INPUT"
	QuotaExceeded           Code = "QUOTA_EXCEEDED"
	RateLimited             Code = "RATE_LIMITED"
	Conflict                Code = "CONFLICT"
	BillingNotConfigured    Code = "BILLING_NOT_CONFIGURED"
	ComplexityLimitExceeded Code = "COMPLEXITY_LIMIT_EXCEEDED"
	Internal                Code = "INTERNAL_SERVER_ERROR"
	NotImplemented          Code = "NOT_IMPLEMENTED"
)

// Error is an error a client may see.
type Error struct {
	Code    Code
	Message string
	// Field is the input path at fault for BAD_USER_INPUT ("input.text").
	Field string
	// RetryAfter tells a RATE_LIMITED client when to come back.
	RetryAfter time.Duration

	// format and args made Message (BAD_USER_INPUT only), so MessageIn can
	// write it again in another language.
	format string
	args   []any
}

func (e *Error) Error() string {
	if e.Field != "" {
		return fmt.Sprintf("%s: %s: %s", e.Code, e.Field, e.Message)
	}
	return fmt.Sprintf("%s: %s", e.Code, e.Message)
}

// Is makes errors.Is(err, &Error{Code: c}) match any error with code c.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Code == e.Code && (t.Message == "" || t.Message == e.Message)
}

// Invalid is BAD_USER_INPUT for field. format must be a string literal with
// a Japanese translation in japanese (a test checks every call).
func Invalid(field, format string, args ...any) *Error {
	return &Error{Code: BadUserInput, Field: field, Message: fmt.Sprintf(format, args...), format: format, args: args}
}

// MessageIn is the message in lang ("ja" or "en"): what a person sees next
// to the field they got wrong, in the language of the app they use. Messages
// without a translation stay in English.
func (e *Error) MessageIn(lang string) string {
	if lang == "ja" {
		if f, ok := japanese[e.format]; ok {
			return fmt.Sprintf(f, e.args...)
		}
	}
	return e.Message
}

// New is an error with code and a message for the client.
func New(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// CodeOf is the code of err: the code of the first *Error in its chain, or
// Internal for anything else.
func CodeOf(err error) Code {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return Internal
}

// As returns the *Error in err's chain, if any.
func As(err error) (*Error, bool) {
	var e *Error
	ok := errors.As(err, &e)
	return e, ok
}
