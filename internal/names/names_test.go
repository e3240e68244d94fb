package names

import (
	"regexp"
	"testing"
)

// TestValid checks the hand-written rule against docker's own regular
// expression, on names good and bad.
func TestValid(t *testing.T) {
	docker := regexp.MustCompile(`^` + Chars + `+$`)
	for _, name := range []string{"web", "Web-1", "a", "9lives", "a.b_c-d", "", "-web", "_web", ".web", "we b", "web/", "wéb", "web\n", "a:b"} {
		if got, want := Valid(name), docker.MatchString(name); got != want {
			t.Errorf("Valid(%q) = %v, docker's rule says %v", name, got, want)
		}
	}
}
