package namespaces

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"syscall"

	"minidocker/step02-namespaces/privileges"
)

// InitArg is the reserved first argument that turns the minidocker binary
// into a container's init: main (or TestMain) calls Init first, and Init
// takes over only when os.Args[1] is InitArg.
const InitArg = "__minidocker_init"

// Namespace names one kind of namespace, as /proc/self/ns/<name> spells it
// (except "mnt", which the lesson and --ns also accept as "mount").
type Namespace string

// The namespaces this step can create, in the order the lesson shows them.
const (
	UTS    Namespace = "uts"    // hostname and domain name
	PID    Namespace = "pid"    // process IDs: the command becomes PID 1
	Mnt    Namespace = "mnt"    // the mount table
	IPC    Namespace = "ipc"    // System V IPC and POSIX message queues
	Net    Namespace = "net"    // network devices, addresses, routes, ports
	Cgroup Namespace = "cgroup" // the view of /proc/self/cgroup
)

// UserNS is the user namespace: user and group IDs of its own, mapped onto
// a range of the host's, so that root inside is an unprivileged user
// outside. Only an OCI bundle asks for it (final/ociruntime, with
// Config.UIDMappings and GIDMappings); docker run does not, and it is not
// in All: see userns_linux.go.
const UserNS Namespace = "user"

// All is every namespace step 2 knows, in order.
var All = []Namespace{UTS, PID, Mnt, IPC, Net, Cgroup}

// Default is what docker run creates. It includes the cgroup namespace,
// as Docker does on cgroup v2 hosts (on v1 hosts Docker shares the host's
// by default): a container's /proc/self/cgroup shows its own cgroup as "/"
// and nothing of the host's tree above it.
var Default = []Namespace{UTS, PID, Mnt, IPC, Net, Cgroup}

// Parse reads a comma-separated list such as "uts,pid,mnt". An empty string
// means no namespaces at all; "mount" is accepted for "mnt".
func Parse(s string) ([]Namespace, error) {
	var out []Namespace
	for _, name := range strings.Split(s, ",") {
		name = strings.TrimSpace(name)
		if name == "" {
			continue
		}
		if name == "mount" {
			name = "mnt"
		}
		ns := Namespace(name)
		if !slices.Contains(All, ns) {
			return nil, fmt.Errorf("unknown namespace %q (want some of uts,pid,mnt,ipc,net,cgroup)", name)
		}
		if !slices.Contains(out, ns) {
			out = append(out, ns)
		}
	}
	return out, nil
}

// Config is everything the container's init needs. The parent sends it as
// JSON over a pipe (fd 3 in the init), never on the command line: argv is
// visible in ps, limited in size, and a toy that joins args with spaces
// breaks on the first argument that has one.
type Config struct {
	// Args is the command and its arguments; Args[0] is looked up in the
	// PATH of Env inside the container.
	Args []string `json:"args"`
	// Env is the command's whole environment.
	Env []string `json:"env"`
	// Dir is the working directory inside the container ("" keeps the current one).
	Dir string `json:"dir,omitempty"`
	// Namespaces lists the namespaces to create. A namespace not listed is
	// shared with the host.
	Namespaces []Namespace `json:"namespaces"`
	// NetNS, when set with Net in Namespaces, is a network namespace to
	// join instead of a new one: a path such as /proc/PID/ns/net (docker run
	// --network container:NAME shares that container's). The init enters it
	// with setns(2) first thing, on the thread that later execs.
	NetNS string `json:"netns,omitempty"`
	// Hostname is set in the new UTS namespace ("" keeps the inherited one).
	Hostname string `json:"hostname,omitempty"`
	// User is who the command runs as, in docker run --user form (name,
	// uid, name:group or uid:gid; "" is root), looked up in the container's
	// /etc/passwd and /etc/group once its root filesystem is in place.
	User string `json:"user,omitempty"`
	// Init runs our minimal init as PID 1, which starts the command as PID 2,
	// forwards signals to it, reaps every zombie and exits with the
	// command's status (docker run --init).
	Init bool `json:"init,omitempty"`
	// Privileges are what the command may still do as root: capabilities,
	// no_new_privs, a seccomp filter. Nil means Docker's defaults (its 14
	// capabilities and its seccomp profile, compiled by the init);
	// privileges.Resolve makes one from docker run's flags.
	Privileges *privileges.Config `json:"privileges,omitempty"`
	// JoinPaths are namespaces of Namespaces to enter instead of create, by
	// path (/proc/PID/ns/uts, a bind-mounted /run/netns/x): an OCI bundle's
	// linux.namespaces entries with a path, as Kubernetes gives a pod's
	// containers the pause container's. The init enters them with setns(2)
	// first thing, like NetNS (net goes in NetNS); a PID namespace is
	// entered by the parent, which clones the init from inside it.
	JoinPaths map[Namespace]string `json:"joinPaths,omitempty"`
	// IDs, when set, are the command's user and groups as numbers, used
	// exactly (an OCI bundle's process.user), instead of User looked up in
	// the container's files. HOME still comes from its /etc/passwd.
	IDs *IDs `json:"ids,omitempty"`
	// Rlimits are set with setrlimit(2) before the command runs (an OCI
	// bundle's process.rlimits); the command and its children inherit them.
	Rlimits []Rlimit `json:"rlimits,omitempty"`
	// OOMScoreAdj, when set, is written to /proc/self/oom_score_adj: how
	// eagerly the kernel's OOM killer picks this process (-1000 to 1000).
	OOMScoreAdj *int `json:"oomScoreAdj,omitempty"`
	// StartFD, when not 0, splits create from start as runc does: it is the
	// init's descriptor (an O_PATH) of a FIFO in the runtime's state
	// directory. Once everything but the execve is done, the init reports
	// success to its parent and opens the FIFO for writing, which blocks
	// until "start" opens it for reading; then it executes the command.
	StartFD int `json:"startFD,omitempty"`
	// UIDMappings and GIDMappings, with User in Namespaces, map the new
	// user namespace's IDs onto the host's (/proc/PID/uid_map, gid_map):
	// an OCI bundle's linux.uidMappings and gidMappings.
	UIDMappings []IDMap `json:"uidMappings,omitempty"`
	GIDMappings []IDMap `json:"gidMappings,omitempty"`
	// Stages holds the configuration of the set-up stages that later steps
	// add (step 3: "rootfs"), by stage name. See Stage.
	Stages map[string]json.RawMessage `json:"stages,omitempty"`
}

// IDs are a user and groups by number, to use as they are.
type IDs struct {
	UID            uint32   `json:"uid"`
	GID            uint32   `json:"gid"`
	AdditionalGIDs []uint32 `json:"additionalGids,omitempty"`
	// Umask, when set, is the command's file mode creation mask.
	Umask *uint32 `json:"umask,omitempty"`
}

// IDMap maps Size IDs from ContainerID in a user namespace onto the host's
// from HostID: one line of /proc/PID/uid_map (user_namespaces(7)).
type IDMap struct {
	ContainerID uint32 `json:"containerID"`
	HostID      uint32 `json:"hostID"`
	Size        uint32 `json:"size"`
}

// Rlimit is one resource limit: Type as the OCI spec and getrlimit(2) name
// it (RLIMIT_NOFILE), and its hard and soft values.
type Rlimit struct {
	Type string `json:"type"`
	Hard uint64 `json:"hard"`
	Soft uint64 `json:"soft"`
}

// Has reports whether c asks for namespace ns.
func (c *Config) Has(ns Namespace) bool { return slices.Contains(c.Namespaces, ns) }

// Stage is one part of the container's set-up that a later step adds. It
// runs inside the new namespaces, after step 2's own set-up (private mounts,
// hostname, loopback) and before the command starts, and only when the
// Config has an entry for its Name in Stages; raw is that entry.
type Stage struct {
	Name string
	// MountsProc says the stage mounts /proc itself (inside a new root), so
	// step 2's own /proc mount is skipped.
	MountsProc bool
	Run        func(cfg *Config, raw json.RawMessage) error
}

// initError is what the init sends back to the parent when it fails before
// the command runs: a message and the exit code Docker would give.
type initError struct {
	Message string `json:"message"`
	Code    int    `json:"code"`
}

// Options are the host side of starting a container; nothing here is sent
// to the init.
type Options struct {
	// Stdin, Stdout and Stderr become the container's stdio (see
	// process.Spec: an *os.File is passed as is).
	Stdin          io.Reader
	Stdout, Stderr io.Writer
	// ExtraFiles are more descriptors for the init, from fd 5 on (after
	// the config and error pipes): an OCI runtime's start FIFO (StartFD).
	ExtraFiles []*os.File
	// SysProcAttr is merged into the clone: its Cloneflags are ORed with
	// the namespaces' flags. Later steps use it for CLONE_INTO_CGROUP
	// (UseCgroupFD) and for a controlling terminal (Setsid, Setctty).
	SysProcAttr *syscall.SysProcAttr
	// Created, if set, runs after clone and before the init reads its
	// Config: the namespaces exist, the init is blocked on its pipe, and
	// nothing of the user's has run. Step 4 places the process in its
	// cgroups here; step 6 moves a veth into its network namespace.
	Created func(pid int) error
}
