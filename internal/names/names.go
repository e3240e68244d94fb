// Package names is docker's rule for container names, in one place for
// every program of the course that names containers (step 6's demo and
// final): a letter or digit, then at least one more of letters, digits,
// '_', '.' or '-' (so a name has two characters at least: "a" is refused).
package names

// Chars is the rule as docker's error message shows it.
const Chars = `[a-zA-Z0-9][a-zA-Z0-9_.-]`

// Valid reports whether name follows the rule (without docker's optional
// leading "/": the caller strips it).
func Valid(name string) bool {
	for i := range len(name) {
		c := name[i]
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
		if i > 0 {
			ok = ok || c == '_' || c == '.' || c == '-'
		}
		if !ok {
			return false
		}
	}
	return len(name) >= 2
}
