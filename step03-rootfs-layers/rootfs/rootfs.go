package rootfs

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"

	"minidocker/step02-namespaces/namespaces"

	"minidocker/internal/names"
)

// StageName is the key of this package's entry in namespaces.Config.Stages.
const StageName = "rootfs"

// Config is the container's filesystem, as the init receives it.
type Config struct {
	// Root is the directory that becomes the container's "/". It must
	// exist; it does not need to be a mount point.
	Root string `json:"root"`
	// Lower, if not empty, are the image's read-only layer directories,
	// topmost first; an overlay of them under Upper (the container's own
	// writable layer, with its Work directory) is mounted on Root first.
	// Without Lower, Root itself is used as it is (an unpacked directory).
	Lower []string `json:"lower,omitempty"`
	Upper string   `json:"upper,omitempty"`
	Work  string   `json:"work,omitempty"`
	// Mounts are bind mounts from the host: volumes (-v), and later the
	// container's /etc/hosts, /etc/hostname and /etc/resolv.conf.
	Mounts []Mount `json:"mounts,omitempty"`
	// MaskedPaths and ReadonlyPaths override DefaultMaskedPaths and
	// DefaultReadonlyPaths when not nil; an empty list means none. (No
	// omitempty: it would drop an empty list from the JSON, and the init
	// would read nil, the defaults.)
	MaskedPaths   []string `json:"maskedPaths"`
	ReadonlyPaths []string `json:"readonlyPaths"`
	// ReadOnly makes the container's root filesystem read-only (docker run
	// --read-only). /dev, /dev/shm, /proc and the volumes stay as they are:
	// they are mounts of their own.
	ReadOnly bool `json:"readOnly,omitempty"`
	// Privileged is docker run --privileged's part of the filesystem: no
	// masked or read-only paths (whatever MaskedPaths and ReadonlyPaths
	// say), and /sys and /sys/fs/cgroup writable.
	Privileged bool `json:"privileged,omitempty"`
	// RootPropagation, when set, is the mount propagation of the container's
	// "/" (an OCI bundle's linux.rootfsPropagation: rshared, rslave,
	// private...), set after pivot_root: set before, it would be the host's
	// root that changes.
	RootPropagation string `json:"rootPropagation,omitempty"`
	// ConsoleSocket, when set, gives the container a terminal (SetConsole).
	ConsoleSocket string `json:"consoleSocket,omitempty"`
	// ConsoleFD, when not 0, is the init's inherited descriptor of that
	// socket, already connected by its parent, used instead of dialing
	// ConsoleSocket: in a user namespace the init's root may not reach
	// the socket's path (runc passes its console socket the same way).
	ConsoleFD int `json:"consoleFD,omitempty"`
	// ConsoleRows and ConsoleCols, when both set, are the terminal's size,
	// set before the command starts (runc's process.consoleSize).
	ConsoleRows uint16 `json:"consoleRows,omitempty"`
	ConsoleCols uint16 `json:"consoleCols,omitempty"`

	// SpecMounts, when not nil, are all the container's mounts, in order,
	// as an OCI runtime spec lists them (config.json's "mounts": /proc,
	// /dev, /dev/pts... and the binds): Setup mounts exactly these, instead
	// of its own /proc, /dev, /sys and /sys/fs/cgroup and instead of Mounts.
	// See SpecMount. An empty list means no mounts at all (no omitempty,
	// as for MaskedPaths: the init would read nil, the fixed set).
	SpecMounts []SpecMount `json:"specMounts"`
	// Devices are device nodes to make beyond DefaultDevices (the spec's
	// linux.devices, docker run --device), in /dev or wherever their Path
	// says.
	Devices []Device `json:"devices,omitempty"`
	// Sysctl are kernel parameters to set for the container (the spec's
	// linux.sysctl, docker run --sysctl), written to /proc/sys once the
	// container's /proc is its own and before /proc/sys is made read-only:
	// "net.ipv4.ip_forward": "1" is /proc/sys/net/ipv4/ip_forward. Only
	// namespaced ones make sense: see CheckSysctl.
	Sysctl map[string]string `json:"sysctl,omitempty"`
}

// SpecMount is one mount of an OCI runtime spec (specs.Mount's fields
// that Linux uses, in our own type so that this step does not depend on
// the spec's package): mount(2)'s arguments, with the flags still spelled
// as mount(8) spells them in Options ("nosuid", "ro", "mode=755"...).
//
// Type says what it is: "bind" (or any type with a "bind" or "rbind"
// option) binds the host's Source; "proc", "tmpfs", "devpts", "mqueue",
// "sysfs", "cgroup" and "cgroup2" are new kernel filesystems, Source being
// only a label. Other filesystems (overlay, nfs...) are not supported.
//
// Options are read as runc reads them: mount(8)'s flag words (ro, nosuid,
// relatime, bind, rbind...), propagation modes (rprivate, shared...),
// recursive attributes that reach the mounts an rbind brings along (rro,
// rnosuid, rnodev, rnoexec...), "tmpcopyup" (a tmpfs that starts with the
// image's files there); anything else is the filesystem's own data
// (size=64m, mode=755, newinstance).
type SpecMount struct {
	Destination string   `json:"destination"`
	Type        string   `json:"type,omitempty"`
	Source      string   `json:"source,omitempty"`
	Options     []string `json:"options,omitempty"`
}

// Device is a device node in the container (the spec's LinuxDevice).
type Device struct {
	Path string `json:"path"` // absolute, in the container: /dev/fuse
	// Type is "c" (character), "u" (character, unbuffered: the same
	// node), "b" (block) or "p" (a FIFO, no numbers).
	Type  string `json:"type"`
	Major int64  `json:"major,omitempty"`
	Minor int64  `json:"minor,omitempty"`
	// FileMode is the node's permissions; 0 means 0666, as runc's default.
	FileMode os.FileMode `json:"fileMode,omitempty"`
	UID      uint32      `json:"uid,omitempty"`
	GID      uint32      `json:"gid,omitempty"`
}

// DefaultDevices are the device nodes every container gets in its /dev,
// as with runc and Docker: the harmless ones, not the host's disks.
var DefaultDevices = []Device{
	{Path: "/dev/null", Type: "c", Major: 1, Minor: 3},
	{Path: "/dev/zero", Type: "c", Major: 1, Minor: 5},
	{Path: "/dev/full", Type: "c", Major: 1, Minor: 7},
	{Path: "/dev/random", Type: "c", Major: 1, Minor: 8},
	{Path: "/dev/urandom", Type: "c", Major: 1, Minor: 9},
	{Path: "/dev/tty", Type: "c", Major: 5, Minor: 0},
}

// Mount is one bind mount of a host file or directory into the container.
type Mount struct {
	Source      string `json:"source"`      // absolute path on the host
	Destination string `json:"destination"` // absolute path in the container
	ReadOnly    bool   `json:"readOnly,omitempty"`
	// Name is a named volume's name (-v data:/var/lib/db), for final's
	// engine to turn into a Source; "" for a host path.
	Name string `json:"name,omitempty"`
	// Anonymous is -v /data (a container path alone): a new volume of its
	// own, which final's engine makes and names.
	Anonymous bool `json:"anonymous,omitempty"`
	// Propagation is the bind's mount propagation (bind-propagation=):
	// private, rprivate, slave, rslave, shared or rshared; "" leaves it as
	// the container's private mount namespace makes it (rprivate).
	Propagation string `json:"propagation,omitempty"`
	// Tmpfs: a new, empty tmpfs at Destination instead of a bind (--tmpfs,
	// --mount type=tmpfs); no Source. Options are its mount options as
	// mount(8) spells them (noexec, size=64m, mode=1777...): the flags
	// become mount(2) flags, the rest the filesystem's data.
	Tmpfs   bool     `json:"tmpfs,omitempty"`
	Options []string `json:"options,omitempty"`
	// CopyUp: when Source is an empty directory, what the image has at
	// Destination is first copied into it (a new named volume starts with
	// the image's files there, as in Docker).
	CopyUp bool `json:"copyUp,omitempty"`
}

func (m Mount) String() string {
	if m.Tmpfs {
		return "tmpfs:" + m.Destination
	}
	s := m.Source + ":" + m.Destination
	if m.ReadOnly {
		s += ":ro"
	}
	return s
}

// DefaultMaskedPaths are hidden from the container, as runc and Docker
// hide them by default: files get /dev/null bound over them, directories an
// empty read-only tmpfs. They leak host details (kcore is the host's
// memory; keys, timer_list and sched_debug tell about other processes) or
// reach host hardware.
var DefaultMaskedPaths = []string{
	"/proc/asound",
	"/proc/acpi",
	"/proc/interrupts",
	"/proc/kcore",
	"/proc/keys",
	"/proc/latency_stats",
	"/proc/timer_list",
	"/proc/timer_stats",
	"/proc/sched_debug",
	"/proc/scsi",
	"/sys/firmware",
	"/sys/devices/virtual/powercap",
}

// DefaultReadonlyPaths are visible but read-only (runc's and Docker's
// defaults): writing /proc/sys would change the host kernel's settings,
// /proc/sysrq-trigger could reboot it.
var DefaultReadonlyPaths = []string{
	"/proc/bus",
	"/proc/fs",
	"/proc/irq",
	"/proc/sys",
	"/proc/sysrq-trigger",
}

// ParseVolume reads a -v value: HOST:CONTAINER[:ro|:rw], or
// NAME:CONTAINER[:ro|:rw] for a named volume (Name set, no Source: final's
// engine keeps volumes), or CONTAINER alone for an anonymous volume (as
// Docker's -v /data). Paths must be absolute; "." is cleaned away; the
// container path follows CheckDestination's rules.
func ParseVolume(spec string) (Mount, error) {
	parts := strings.Split(spec, ":")
	var m Mount
	switch len(parts) {
	case 1:
		// A container path alone: an anonymous volume.
		m.Anonymous = true
		parts = []string{"", parts[0]}
		if parts[1] == "" {
			return Mount{}, fmt.Errorf("invalid volume specification: '%s'", spec)
		}
	case 2:
	case 3:
		switch parts[2] {
		case "ro":
			m.ReadOnly = true
		case "rw":
		default:
			return Mount{}, fmt.Errorf("invalid mode: %s", parts[2])
		}
	default:
		return Mount{}, fmt.Errorf("invalid volume specification: '%s'", spec)
	}
	if (parts[0] == "" && !m.Anonymous) || parts[1] == "" {
		return Mount{}, fmt.Errorf("invalid volume specification: '%s'", spec)
	}
	if parts[0] != "" && !filepath.IsAbs(parts[0]) {
		// Not a path: a named volume, whose name follows Docker's rule.
		if err := CheckVolumeName(parts[0]); err != nil {
			return Mount{}, err
		}
		m.Name = parts[0]
	}
	dest, err := CheckDestination(parts[1])
	if err != nil {
		return Mount{}, fmt.Errorf("invalid volume specification: '%s': %w", spec, err)
	}
	if m.Name == "" && !m.Anonymous {
		m.Source = filepath.Clean(parts[0])
	}
	m.Destination = dest
	return m, nil
}

// CheckVolumeName checks a volume's name with Docker's rule and message.
func CheckVolumeName(name string) error {
	if !names.Valid(name) {
		return fmt.Errorf("create %s: %q includes invalid characters for a local volume name, only %q are allowed. If you intended to pass a host directory, use absolute path", name, name, names.Chars)
	}
	return nil
}

// CheckDestination checks a mount's path in the container, for every form
// (-v, --mount, --tmpfs), and returns it cleaned. It must be absolute; it
// is refused when it is "/" (as Docker refuses it), when it has a ".."
// component (checked before cleaning: "/data/../etc" is not what the user
// meant to write, and a target is never a way out of the container anyway),
// and when it is /proc, /sys or beneath them: those are the kernel's views
// that the masked and read-only paths protect, and a mount over /proc/sys
// or /sys/fs/cgroup would undo them (runc refuses most of /proc for the
// same reason, in checkProcMount; Docker itself lets them through to runc).
// The init checks the last rule again on the target resolved through the
// image's symlinks.
func CheckDestination(dest string) (string, error) {
	if !path.IsAbs(dest) {
		return "", errors.New("mount path must be absolute")
	}
	if slices.Contains(strings.Split(dest, "/"), "..") {
		return "", errors.New("mount path must not contain '..'")
	}
	clean := path.Clean(dest)
	if clean == "/" {
		return "", errors.New("cannot mount over /")
	}
	if kernel, ok := underKernelFS(clean); ok {
		return "", fmt.Errorf("cannot mount over %s", kernel)
	}
	return clean, nil
}

// underKernelFS reports whether dest (absolute, clean) is /proc, /sys or
// below one of them, and which: a volume there would cover the kernel's
// view the masks and read-only paths protect. The init checks it again on
// the target resolved through the image's symlinks (an image may hold
// /data -> /proc/sys).
func underKernelFS(dest string) (string, bool) {
	for _, kernel := range []string{"/proc", "/sys"} {
		if dest == kernel || strings.HasPrefix(dest, kernel+"/") {
			return kernel, true
		}
	}
	return "", false
}

// ForContainer lays out a container's own directories under dir (its
// upper and work layers and the mount point of its root) and returns the
// Config that stacks them over lowers (the image's layer directories,
// topmost first) with the given volumes. The directories stay for a
// restart; removing dir removes the container's writes.
func ForContainer(dir string, lowers []string, volumes []Mount) (Config, error) {
	cfg := Config{
		Root:   filepath.Join(dir, "rootfs"),
		Lower:  lowers,
		Upper:  filepath.Join(dir, "upper"),
		Work:   filepath.Join(dir, "work"),
		Mounts: volumes,
	}
	for _, d := range []string{cfg.Root, cfg.Upper, cfg.Work} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return Config{}, fmt.Errorf("container directory: %w", err)
		}
	}
	return cfg, nil
}

// ParseVolumes parses each -v value, with docker run's error wording.
func ParseVolumes(specs []string) ([]Mount, error) {
	var mounts []Mount
	for _, v := range specs {
		m, err := ParseVolume(v)
		if err != nil {
			return nil, fmt.Errorf(`invalid argument %q for "-v" flag: %w`, v, err)
		}
		mounts = append(mounts, m)
	}
	return mounts, nil
}

// Configure changes this package's stage in an init config that Prepare
// made: f gets the Config the init will receive. For example --read-only
// and --privileged:
//
//	rootfs.Configure(&cfg, func(c *rootfs.Config) { c.ReadOnly, c.Privileged = true, false })
func Configure(cfg *namespaces.Config, f func(*Config)) error {
	var c Config
	raw, ok := cfg.Stages[StageName]
	if !ok {
		return fmt.Errorf("rootfs: the init config has no %q stage", StageName)
	}
	if err := json.Unmarshal(raw, &c); err != nil {
		return fmt.Errorf("rootfs: read the stage config: %w", err)
	}
	f(&c)
	raw, err := json.Marshal(c)
	if err != nil {
		return fmt.Errorf("rootfs: write the stage config: %w", err)
	}
	cfg.Stages[StageName] = raw
	return nil
}
