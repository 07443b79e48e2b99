// Package config loads the typed configuration of every sharpeyes service.
//
// A configuration is built in four steps, each overriding the one before:
// defaults in code (the service's Defaults method), the YAML file named by
// -config, environment variables SHARPEYES_<SECTION>_<KEY> (for example
// SHARPEYES_DATABASE_URL or SHARPEYES_LOG_LEVEL), and finally validation,
// whose errors name the offending key and say why it is wrong.
package config
