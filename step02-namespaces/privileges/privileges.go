package privileges

// Config is what the container's process may do once it runs: the init
// receives it in its configuration and applies it last (Apply).
type Config struct {
	// Capabilities are the capabilities the process keeps, in its
	// bounding, permitted and effective sets ("CAP_CHOWN", ...). Every
	// other one is dropped from all sets; inheritable and ambient end
	// empty. Nil keeps none.
	Capabilities []string `json:"capabilities"`
	// Sets, when not nil, gives each of the five capability sets a list of
	// its own (an OCI bundle's process.capabilities), and Capabilities is
	// not used. Docker keeps one list in bounding, permitted and effective;
	// an OCI runtime takes whatever the engine above it asks for, ambient
	// capabilities included (those survive the execve of a non-root user).
	Sets *CapabilitySets `json:"sets,omitempty"`
	// NoNewPrivileges sets no_new_privs: execve never grants more
	// (setuid bits and file capabilities are ignored).
	NoNewPrivileges bool `json:"noNewPrivileges,omitempty"`
	// Seccomp is a compiled filter (Compile), the raw classic-BPF program
	// of 8-byte instructions; nil installs none.
	Seccomp []byte `json:"seccomp,omitempty"`
}

// CapabilitySets are a process's capability sets by name, as the OCI
// runtime spec lists them (see capabilities(7) for what each one does).
type CapabilitySets struct {
	Bounding    []string `json:"bounding,omitempty"`
	Effective   []string `json:"effective,omitempty"`
	Permitted   []string `json:"permitted,omitempty"`
	Inheritable []string `json:"inheritable,omitempty"`
	Ambient     []string `json:"ambient,omitempty"`
}

// Options are docker run's privilege flags, as the user gave them.
type Options struct {
	Privileged bool     // --privileged: every capability, no seccomp
	CapAdd     []string // --cap-add
	CapDrop    []string // --cap-drop
	// NoNewPrivileges is --security-opt no-new-privileges.
	NoNewPrivileges bool
	// SeccompProfile is --security-opt seccomp=...: "" for Docker's
	// default profile, "unconfined" for none, or a profile's JSON text.
	SeccompProfile string
	// CacheDir, if set, keeps compiled filters (CompileCached).
	CacheDir string
}

// Unconfined is the seccomp profile that installs no filter.
const Unconfined = "unconfined"

// Resolve turns docker run's flags into the init's Config: the capability
// set, and the seccomp profile compiled for it (the profile's rules depend
// on the capabilities: with CAP_SYS_ADMIN, clone may create namespaces).
func Resolve(o Options) (*Config, error) {
	caps, err := Capabilities(o.CapAdd, o.CapDrop, o.Privileged)
	if err != nil {
		return nil, err
	}
	c := &Config{Capabilities: caps, NoNewPrivileges: o.NoNewPrivileges}
	if o.Privileged || o.SeccompProfile == Unconfined {
		return c, nil
	}
	var profile []byte
	if o.SeccompProfile != "" {
		profile = []byte(o.SeccompProfile)
	}
	if o.CacheDir != "" {
		c.Seccomp, err = CompileCached(o.CacheDir, profile, caps)
	} else {
		c.Seccomp, err = Compile(profile, caps)
	}
	if err != nil {
		return nil, err
	}
	return c, nil
}
