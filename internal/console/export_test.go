package console

// Timeouts of the console the black-box tests derive their waits from.
const (
	// SipCallTimeout bounds one call to sipserver.
	SipCallTimeout = sipCallTimeout
	// RecorderCallTimeout bounds one call to a recorder node.
	RecorderCallTimeout = recorderCallTimeout
)

// The OpenAPI documents the tests validate real requests and answers against.
var (
	OpenAPI         = openAPI
	InternalOpenAPI = internalOpenAPI
)
