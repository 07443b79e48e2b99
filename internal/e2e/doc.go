// Package e2e holds black-box tests of the whole stack as `make run` starts
// it: sipserver, mediagw (and the console) each started with its Run
// function on free loopback ports against a private PostgreSQL, with gbsim
// cameras in front. It has no code of its own outside the tests.
package e2e
