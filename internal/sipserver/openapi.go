package sipserver

import _ "embed"

// openAPI is the API's OpenAPI document, served at GET
// /internal/v1/openapi.json and checked against real answers by the tests.
//
//go:embed openapi.json
var openAPI []byte
