package objstore

import "errors"

var (
	// ErrNotFound is returned when an object (or the local file of one not
	// committed yet) does not exist.
	ErrNotFound = errors.New("objstore: object not found")
	// ErrInvalidKey is returned for a key that could escape the store's root
	// or name something other than a plain object: empty, absolute, with
	// "." or ".." or empty path elements, or with characters outside
	// [A-Za-z0-9._-/].
	ErrInvalidKey = errors.New("objstore: invalid key")
	// ErrInvalidConfig is returned by Config.Validate; the message names the bad field.
	ErrInvalidConfig = errors.New("objstore: invalid config")
	// ErrNoBucket is returned by New when the S3 bucket does not exist and
	// Config.CreateBucket does not allow creating it.
	ErrNoBucket = errors.New("objstore: bucket does not exist")
)
