package privileges

import (
	"fmt"
	"os"
	"strconv"
	"strings"
)

// ParseSecurityOpts reads docker run's --security-opt values into o:
//
//	no-new-privileges[:true|false]   (also with "=")
//	seccomp=unconfined               no filter
//	seccomp=PATH                     a profile in Docker's JSON format, read now
//	apparmor=..., label=...          accepted and ignored: minidocker has no LSM support
//
// It returns the options to store with the container, with a profile's
// path replaced by its content as the docker CLI sends it, so that the
// container starts the same way if the file changes or goes.
func ParseSecurityOpts(opts []string, o *Options) ([]string, error) {
	var stored []string
	for _, opt := range opts {
		key, value, hasValue := strings.Cut(opt, "=")
		if !hasValue {
			key, value, hasValue = strings.Cut(opt, ":")
		}
		switch key {
		case "no-new-privileges":
			on := true
			if hasValue {
				b, err := strconv.ParseBool(value)
				if err != nil {
					return nil, fmt.Errorf("invalid --security-opt 2: %q", opt)
				}
				on = b
			}
			o.NoNewPrivileges = on
			if on {
				stored = append(stored, "no-new-privileges")
			}
		case "seccomp":
			switch {
			case !hasValue || value == "":
				return nil, fmt.Errorf("invalid --security-opt: %q", opt)
			case value == Unconfined:
				o.SeccompProfile = Unconfined
			case strings.HasPrefix(strings.TrimSpace(value), "{"):
				o.SeccompProfile = value // already a profile (a stored container)
			default:
				b, err := os.ReadFile(value)
				if err != nil {
					return nil, fmt.Errorf("opening seccomp profile (%s) failed: %w", value, err)
				}
				o.SeccompProfile = string(b)
			}
			stored = append(stored, "seccomp="+o.SeccompProfile)
		case "apparmor", "label":
			stored = append(stored, opt)
		default:
			return nil, fmt.Errorf("invalid --security-opt: %q", opt)
		}
	}
	return stored, nil
}
