package namespaces

import (
	"fmt"
	"regexp"
)

// HostNameMax is the longest host name the kernel keeps (HOST_NAME_MAX,
// __NEW_UTS_LEN in linux/utsname.h): sethostname(2) refuses longer ones
// with EINVAL.
const HostNameMax = 64

// hostnameRE is Docker's RFC 1123 host name: dot-separated labels of
// letters, digits and hyphens, a label neither starting nor ending with a
// hyphen.
var hostnameRE = regexp.MustCompile(`^(([a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9\-]*[a-zA-Z0-9])\.)*([A-Za-z0-9]|[A-Za-z0-9][A-Za-z0-9\-]*[A-Za-z0-9])$`)

// ValidateHostname checks a --hostname the way Docker does, before it goes
// anywhere: into sethostname(2), and into the container's /etc/hostname and
// /etc/hosts, which are text files with one entry per line. A name with a
// newline would add lines of its choosing to /etc/hosts ("x\n10.0.0.9
// registry.local" points another name elsewhere); a space adds aliases. The
// empty name is valid: it means the default (the short container ID).
func ValidateHostname(name string) error {
	if name == "" {
		return nil
	}
	if len(name) > HostNameMax || !hostnameRE.MatchString(name) {
		return fmt.Errorf("invalid hostname format: %s", name)
	}
	return nil
}
