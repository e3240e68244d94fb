// Package testkit holds helpers shared by the tests of every step: the root
// gate, feature gates, test images and a local registry fixture.
//
// Nothing outside _test.go files may import it.
package testkit
