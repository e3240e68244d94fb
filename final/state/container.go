package state

import (
	"fmt"
	"strings"
	"time"

	"minidocker/internal/names"
	"minidocker/step01-process/process"
	"minidocker/step03-rootfs-layers/rootfs"
)

// Status is a container's state, as docker ps and inspect show it.
type Status string

// The statuses minidocker uses (Docker also has removing and dead).
// Paused is only shown: the record stays running, with Paused set.
// Restarting is a container whose monitor waits to start it again (its
// restart policy's back-off).
const (
	Created    Status = "created"
	Running    Status = "running"
	Paused     Status = "paused"
	Restarting Status = "restarting"
	Exited     Status = "exited"
)

// Container is one stored container. ID, Name, Created and Config are in
// config.json; State is in state.json.
type Container struct {
	// ID is 64 lowercase hex characters, shown as its first 12.
	ID string
	// Name is unique among containers, without docker's leading "/".
	Name    string
	Created time.Time
	Config  Config
	State   State
}

// ShortID is the 12-character form of the ID that docker ps shows.
func (c *Container) ShortID() string { return ShortID(c.ID) }

// ShortID truncates an ID to the 12 characters docker shows.
func ShortID(id string) string { return id[:min(len(id), shortIDLen)] }

const shortIDLen = 12

// Config is what the container was created with. It changes only through
// Update, at run time: the IP address and the published host ports are
// known once the container starts.
type Config struct {
	// Image is the reference as given ("busybox"); ImageID is the image
	// config's digest ("sha256:…").
	Image   string `json:",omitempty"`
	ImageID string `json:",omitempty"`

	// The process: Entrypoint followed by Cmd is what runs.
	Entrypoint []string `json:",omitempty"`
	Cmd        []string `json:",omitempty"`
	Env        []string `json:",omitempty"`
	WorkingDir string   `json:",omitempty"`
	User       string   `json:",omitempty"`
	Hostname   string   `json:",omitempty"`
	Tty        bool     `json:",omitempty"`
	OpenStdin  bool     `json:",omitempty"`
	// StopSignal is the signal docker stop sends first ("SIGTERM" when empty).
	StopSignal string `json:",omitempty"`
	// Init runs a tiny init as PID 1 that reaps zombies and forwards signals.
	Init bool `json:",omitempty"`
	// AutoRemove removes the container when it exits (--rm).
	AutoRemove bool `json:",omitempty"`
	// Labels are --label and --label-file's, over the image's own
	// (docker inspect's Config.Labels).
	Labels map[string]string `json:",omitempty"`
	// RestartPolicy is what the monitor does when the container exits
	// (--restart); zero: "no".
	RestartPolicy RestartPolicy `json:",omitzero"`

	// Resources: zero means no limit.
	Memory    int64 `json:",omitempty"` // bytes (--memory)
	NanoCPUs  int64 `json:",omitempty"` // 1e9 per CPU (--cpus)
	PidsLimit int64 `json:",omitempty"` // --pids-limit

	// Mounts are the volumes, bind mounts and tmpfs mounts (-v, --mount,
	// --tmpfs, the image's VOLUMEs).
	Mounts []Mount `json:",omitempty"`

	// Network is the network mode ("bridge", "host", "none", or
	// "container:<ID>" to share another container's network namespace).
	Network string `json:",omitempty"`
	// Bridge and BridgeSubnet are the bridge of the bridge mode and its
	// subnet when not the defaults (minidocker0, picked by the host's
	// routes): the engine's choice at create ($MINIDOCKER_BRIDGE).
	Bridge       string `json:",omitempty"`
	BridgeSubnet string `json:",omitempty"`

	IPAddress string        `json:",omitempty"`
	Gateway   string        `json:",omitempty"`
	Ports     []PortBinding `json:",omitempty"`
	// DNS are the servers of the container's resolv.conf (--dns); none:
	// the host's, minus loopback ones.
	DNS []string `json:",omitempty"`

	// Confinement: --privileged, --cap-add, --cap-drop, --security-opt
	// (no-new-privileges, seccomp=<the profile's JSON> or unconfined) and
	// --read-only. The defaults are Docker's.
	Privileged     bool     `json:",omitempty"`
	CapAdd         []string `json:",omitempty"`
	CapDrop        []string `json:",omitempty"`
	SecurityOpt    []string `json:",omitempty"`
	ReadonlyRootfs bool     `json:",omitempty"`

	// LogPath is the json-file log; Create sets Dir(ID)/<ID>-json.log when
	// it is empty.
	LogPath string `json:",omitempty"`
}

// RestartPolicy is docker's --restart: Name is "no" (or ""), "always",
// "unless-stopped" or "on-failure", whose MaximumRetryCount (0: no limit)
// bounds the restarts.
type RestartPolicy struct {
	Name              string
	MaximumRetryCount int
}

// Mount is one mount of the container: -v SOURCE:DESTINATION[:ro], a
// --mount or a --tmpfs.
type Mount struct {
	Type        string // "bind", "volume" or "tmpfs"
	Name        string `json:",omitempty"` // the volume's name (Type "volume")
	Source      string // on the host ("" for a tmpfs)
	Destination string // in the container
	RW          bool
	// Anonymous: a volume made for this container alone (-v /path, the
	// image's VOLUME, --mount without source), which rm -v and --rm remove.
	Anonymous bool `json:",omitempty"`
	// NoCopy: the volume is not filled from the image (volume-nocopy).
	NoCopy bool `json:",omitempty"`
	// Propagation is a bind's bind-propagation ("" for rprivate).
	Propagation string `json:",omitempty"`
	// Options are a tmpfs's mount options (noexec, size=..., mode=...).
	Options []string `json:",omitempty"`
}

// PortBinding is one published port (-p HOSTIP:HOSTPORT:CONTAINERPORT/PROTO).
type PortBinding struct {
	HostIP        string `json:",omitempty"` // empty for all addresses
	HostPort      uint16
	ContainerPort uint16
	Protocol      string // "tcp" or "udp"
}

// State is what the container is doing now.
type State struct {
	Status  Status
	Running bool
	// Paused: docker pause froze its processes (the freezer cgroup).
	Paused bool `json:",omitempty"`
	// Pid is the container's init process on the host; MonitorPid is the
	// process that copies its output and waits for it. A PID is reused once
	// its process is gone: each comes with the start time of its process
	// (clock ticks after boot, /proc/PID/stat field 22), and a PID whose
	// process started at another time is not ours (see Init, Monitor).
	Pid          int    `json:",omitempty"`
	PidStart     uint64 `json:",omitempty"`
	MonitorPid   int    `json:",omitempty"`
	MonitorStart uint64 `json:",omitempty"`
	ExitCode     int
	OOMKilled    bool
	StartedAt    time.Time
	FinishedAt   time.Time
	// Error is why the container failed to start, if it did.
	Error string `json:",omitempty"`
	// CgroupPaths are the container's cgroup directories by controller,
	// kept so that rm -f can remove them after the monitor was killed.
	CgroupPaths map[string]string `json:",omitempty"`
	// Restarting: the container exited and its monitor, still there,
	// waits out the back-off before it starts it again (Status
	// "restarting", Running false). RestartCount is how many times the
	// monitor restarted it since the last start by a user.
	Restarting   bool `json:",omitempty"`
	RestartCount int  `json:",omitempty"`
	// ManuallyStopped: stop, kill or rm -f asked the container to end (the
	// stop signal or SIGKILL), so its monitor does not restart it, and
	// after a reboot an unless-stopped container stays down (Docker's
	// HasBeenManuallyStopped). A start clears it.
	ManuallyStopped bool `json:",omitempty"`
	// Removing is the rm -f that is killing the container, while it waits
	// for the exit: start refuses the container meanwhile, as Docker's
	// RemovalInProgress does. It is the remover's identity, so that a
	// remover that died leaves no container stuck.
	Removing *process.Identity `json:",omitempty"`
}

// Init is the identity of the container's init process (zero when none).
func (s *State) Init() process.Identity {
	return process.Identity{Pid: s.Pid, StartTime: s.PidStart}
}

// Monitor is the identity of the container's monitor (zero when none).
func (s *State) Monitor() process.Identity {
	return process.Identity{Pid: s.MonitorPid, StartTime: s.MonitorStart}
}

// BeingRemoved reports whether an rm that still runs is removing the
// container.
func (s *State) BeingRemoved() bool {
	return s.Removing != nil && s.Removing.Alive()
}

// ValidNameChars is docker's rule for names, as its error message shows it.
const ValidNameChars = names.Chars

// ValidateName checks a --name value; a leading "/" is allowed and
// ignored, as docker does. The error text is docker's:
// "invalid container name (x), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed".
func ValidateName(name string) error {
	if !names.Valid(strings.TrimPrefix(name, "/")) {
		return fmt.Errorf("%w (%s), only %s are allowed", ErrInvalidName, name, ValidNameChars)
	}
	return nil
}

// NewID returns a random 64-hex container ID (step 3's rootfs.NewID).
func NewID() string { return rootfs.NewID() }

func isHex(s string) bool {
	for i := range len(s) {
		c := s[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return s != ""
}
