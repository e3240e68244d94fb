// Package ocivalidate runs the OCI runtime-spec validation suite
// (github.com/opencontainers/runtime-tools, validation/) against a runtime
// with runc's command line. It holds only tests; see README.md.
package ocivalidate
