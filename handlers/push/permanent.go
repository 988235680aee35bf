package push

import "errors"

// permanentError marks an error that no redelivery can cure.
type permanentError struct{ err error }

func (e *permanentError) Error() string { return e.err.Error() }
func (e *permanentError) Unwrap() error { return e.err }

// Permanent marks err as one that retrying cannot fix (a poison message):
// the handler built by NewHandler then acknowledges the message, marks it
// done and logs it at ERROR as poison, instead of answering 500 and having
// Pub/Sub deliver it again and again. Permanent(nil) is nil.
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return &permanentError{err: err}
}

// IsPermanent reports whether err, or any error it wraps, was marked with
// Permanent.
func IsPermanent(err error) bool {
	var p *permanentError
	return errors.As(err, &p)
}
