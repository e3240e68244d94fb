package namespaces

import (
	"strings"
	"testing"
)

func TestValidateHostname(t *testing.T) {
	tests := []struct {
		name  string
		in    string
		valid bool
	}{
		{"default", "", true},
		{"one letter", "a", true},
		{"short id", "3f2a1b4c5d6e", true},
		{"hyphen inside", "web-1", true},
		{"dotted", "web.example.com", true},
		{"upper case", "Web.Example", true},
		{"digits only", "1234", true},
		{"longest", strings.Repeat("a", HostNameMax), true},
		{"one too long", strings.Repeat("a", HostNameMax+1), false},
		{"newline", "web\n10.0.0.9 registry.local", false},
		{"trailing newline", "web\n", false},
		{"carriage return", "web\r", false},
		{"space", "web db", false},
		{"tab", "web\tdb", false},
		{"NUL", "web\x00", false},
		{"leading hyphen", "-web", false},
		{"trailing hyphen", "web-", false},
		{"label ends with hyphen", "web-.example", false},
		{"empty label", "web..example", false},
		{"leading dot", ".web", false},
		{"trailing dot", "web.", false},
		{"underscore", "web_1", false},
		{"slash", "web/1", false},
		{"hash", "web#1", false},
		{"non-ASCII", "wéb", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := ValidateHostname(tc.in)
			if tc.valid && err != nil {
				t.Errorf("ValidateHostname(%q) = %v, want nil", tc.in, err)
			}
			if !tc.valid && (err == nil || err.Error() != "invalid hostname format: "+tc.in) {
				t.Errorf("ValidateHostname(%q) = %v, want Docker's %q", tc.in, err, "invalid hostname format: "+tc.in)
			}
		})
	}
}
