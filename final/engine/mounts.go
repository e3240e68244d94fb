package engine

// The container's mounts, from every form docker run has:
//
//	-v /host:/c[:ro]          a bind mount of a host path
//	-v NAME:/c[:ro]           a named volume (volumes.go), made on first use
//	-v /c                     an anonymous volume: a new one, named by a random ID
//	VOLUME /c (the image's)   an anonymous volume too, unless a mount covers /c
//	--mount type=bind|volume|tmpfs,...   the same, spelled out (MountSpec)
//	--tmpfs /c[:OPTIONS]      a tmpfs: memory, empty at each start
//
// They are checked here as dockerd checks them, once, at create; the
// record keeps them (state.Mount) and the init mounts them (step 3).

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"minidocker/final/errdefs"
	"minidocker/final/state"
	"minidocker/step03-rootfs-layers/rootfs"
	"minidocker/step04-cgroups/cgroups"
)

// MountSpec is one --mount: Docker's HostConfig.Mounts entry, with the
// fields minidocker has.
type MountSpec struct {
	Type     string // bind, volume or tmpfs
	Source   string // bind: a host path; volume: a name ("" for an anonymous one)
	Target   string // in the container
	ReadOnly bool
	// Propagation is bind-propagation: private, rprivate, shared, rshared,
	// slave, rslave.
	Propagation string
	// NoCopy is volume-nocopy: a new volume is not filled with the image's
	// files at Target.
	NoCopy bool
	// TmpfsSize and TmpfsMode are tmpfs-size (bytes) and tmpfs-mode (its
	// octal digits as bits, as Docker keeps it: 1777 is 0o1777).
	TmpfsSize int64
	TmpfsMode fs.FileMode
}

// ParseSize reads a size as docker run's -m and tmpfs-size do: "64m",
// "1.5g", bytes (step 4's grammar).
func ParseSize(s string) (int64, error) { return cgroups.ParseMemory(s) }

// AnonymousLabel marks an anonymous volume, as Docker (23+) marks it:
// volume prune without --all removes only these.
const AnonymousLabel = "com.docker.volume.anonymous"

// tmpfsDefaults are the options of every tmpfs before the user's, as
// dockerd gives them: no programs, no setuid, no devices from it.
var tmpfsDefaults = []string{"noexec", "nosuid", "nodev"}

// mountFromSpec checks a --mount as dockerd does (with its messages) and
// returns it as a mount for the init. A bind's source must exist.
func mountFromSpec(s MountSpec) (rootfs.Mount, error) {
	fail := func(format string, args ...any) (rootfs.Mount, error) {
		return rootfs.Mount{}, errdefs.InvalidParameter(fmt.Errorf("invalid mount config for type %q: %s", s.Type, fmt.Sprintf(format, args...)))
	}
	if s.Target == "" {
		return fail("field Target must not be empty")
	}
	dest, err := rootfs.CheckDestination(s.Target)
	if err != nil {
		return fail("invalid mount path: '%s' %v", s.Target, err)
	}
	m := rootfs.Mount{Destination: dest, ReadOnly: s.ReadOnly}
	switch s.Type {
	case "bind":
		if s.Source == "" {
			return fail("field Source must not be empty")
		}
		if !filepath.IsAbs(s.Source) {
			return fail("invalid mount path: '%s' mount path must be absolute", s.Source)
		}
		if !slices.Contains([]string{"", "private", "rprivate", "shared", "rshared", "slave", "rslave"}, s.Propagation) {
			return fail("invalid propagation mode: %s", s.Propagation)
		}
		if _, err := os.Stat(s.Source); errors.Is(err, fs.ErrNotExist) {
			return fail("bind source path does not exist: %s", s.Source)
		}
		m.Source, m.Propagation = filepath.Clean(s.Source), s.Propagation
	case "volume":
		if s.Propagation != "" {
			return fail("field BindOptions must not be specified")
		}
		if s.Source == "" {
			if s.ReadOnly {
				return fail("must not set ReadOnly mode when using anonymous volumes")
			}
			m.Anonymous = true
		} else if err := rootfs.CheckVolumeName(s.Source); err != nil {
			return rootfs.Mount{}, errdefs.InvalidParameter(err)
		}
		m.Name, m.CopyUp = s.Source, !s.NoCopy
	case "tmpfs":
		if s.Source != "" {
			return fail("field Source must not be specified")
		}
		if s.Propagation != "" {
			return fail("field BindOptions must not be specified")
		}
		m.Tmpfs = true
		m.Options = append([]string{}, tmpfsDefaults...)
		if s.ReadOnly {
			m.Options = append(m.Options, "ro")
		}
		if s.TmpfsMode != 0 {
			m.Options = append(m.Options, "mode="+strconv.FormatUint(uint64(s.TmpfsMode), 8)) // as dockerd: the raw bits, 0o1777
		}
		if s.TmpfsSize != 0 {
			m.Options = append(m.Options, "size="+strconv.FormatInt(s.TmpfsSize, 10))
		}
	default:
		return fail("mount type unknown")
	}
	return m, nil
}

// tmpfsOptions are the options --tmpfs takes after its path: the flags
// (mount(8)'s words) and tmpfs's own size, mode, inodes and owner.
var (
	tmpfsFlagWords = []string{"ro", "rw", "exec", "noexec", "suid", "nosuid", "dev", "nodev", "atime", "noatime", "strictatime"}
	tmpfsDataKeys  = []string{"size", "mode", "nr_inodes", "nr_blocks", "uid", "gid"}
)

// tmpfsFromFlag checks one --tmpfs (HostConfig.Tmpfs entry): a path in the
// container and its options, "size=64m,mode=1777" for example.
func tmpfsFromFlag(dest, options string) (rootfs.Mount, error) {
	clean, err := rootfs.CheckDestination(dest)
	if err != nil {
		return rootfs.Mount{}, errdefs.InvalidParameter(fmt.Errorf("invalid tmpfs mount %s: invalid mount path: '%s' %v", dest, dest, err))
	}
	m := rootfs.Mount{Destination: clean, Tmpfs: true, Options: append([]string{}, tmpfsDefaults...)}
	for o := range strings.SplitSeq(options, ",") {
		if o == "" {
			continue
		}
		key, _, hasValue := strings.Cut(o, "=")
		if (!hasValue && !slices.Contains(tmpfsFlagWords, o)) || (hasValue && !slices.Contains(tmpfsDataKeys, key)) {
			return rootfs.Mount{}, errdefs.InvalidParameter(fmt.Errorf("invalid tmpfs option [%q]", o))
		}
		m.Options = append(m.Options, o)
		if o == "ro" {
			m.ReadOnly = true
		} else if o == "rw" {
			m.ReadOnly = false
		}
	}
	return m, nil
}

// containerMounts gathers a new container's mounts from o and the image's
// VOLUME entries, each checked, none twice at one path (dockerd's
// "Duplicate mount point"). A volume of -v or of an image's VOLUME is
// filled from the image on first use (CopyUp); --mount's unless
// volume-nocopy.
func containerMounts(o RunOptions, imageVolumes map[string]struct{}) ([]rootfs.Mount, error) {
	var all []rootfs.Mount
	for _, m := range o.Mounts {
		m.CopyUp = m.Name != "" || m.Anonymous
		all = append(all, m)
	}
	for _, s := range o.MountSpecs {
		m, err := mountFromSpec(s)
		if err != nil {
			return nil, err
		}
		all = append(all, m)
	}
	dests := slices.Sorted(func(yield func(string) bool) {
		for d := range o.Tmpfs {
			if !yield(d) {
				return
			}
		}
	})
	for _, d := range dests {
		m, err := tmpfsFromFlag(d, o.Tmpfs[d])
		if err != nil {
			return nil, err
		}
		all = append(all, m)
	}
	seen := map[string]bool{}
	for _, m := range all {
		if seen[m.Destination] {
			return nil, errdefs.InvalidParameter(fmt.Errorf("Duplicate mount point: %s", m.Destination))
		}
		seen[m.Destination] = true
	}
	// The image's VOLUMEs: an anonymous volume each, where no mount of
	// the user's is already (Docker's order: the user's win).
	for _, p := range slices.Sorted(func(yield func(string) bool) {
		for p := range imageVolumes {
			if !yield(p) {
				return
			}
		}
	}) {
		dest, err := rootfs.CheckDestination(p)
		if err != nil {
			return nil, errdefs.InvalidParameter(fmt.Errorf("the image's VOLUME %s: %w", p, err))
		}
		if !seen[dest] {
			seen[dest] = true
			all = append(all, rootfs.Mount{Destination: dest, Anonymous: true, CopyUp: true})
		}
	}
	return all, nil
}

// recordMounts turns a new container's mounts into its record's, making
// the volumes it names (and a new one for each anonymous volume) under
// the volumes' lock, which the caller holds until the container is
// recorded, so that no volume rm slips between the two.
func (e *Engine) recordMounts(mounts []rootfs.Mount) ([]state.Mount, error) {
	var out []state.Mount
	for _, m := range mounts {
		rec := state.Mount{Destination: m.Destination, RW: !m.ReadOnly}
		switch {
		case m.Tmpfs:
			rec.Type, rec.Options = "tmpfs", m.Options
		case m.Name == "" && !m.Anonymous:
			rec.Type, rec.Source, rec.Propagation = "bind", m.Source, m.Propagation
		default:
			var labels map[string]string
			if m.Anonymous {
				labels = map[string]string{AnonymousLabel: ""}
			}
			v, err := e.createVolume(m.Name, labels)
			if err != nil {
				return nil, err
			}
			rec.Type, rec.Name, rec.Source = "volume", v.Name, v.Mountpoint
			rec.Anonymous, rec.NoCopy = m.Anonymous, !m.CopyUp
		}
		out = append(out, rec)
	}
	return out, nil
}

// dropAnonymousVolumes removes the anonymous volumes just made for a
// container that could not be recorded; the caller holds the volumes'
// lock, and nobody else knows them.
func (e *Engine) dropAnonymousVolumes(mounts []state.Mount) {
	for _, m := range mounts {
		if m.Type == "volume" && m.Anonymous {
			os.RemoveAll(filepath.Join(e.volumesDir(), m.Name))
		}
	}
}

// initMount is a recorded mount as the init mounts it.
func initMount(m state.Mount) rootfs.Mount {
	return rootfs.Mount{Source: m.Source, Destination: m.Destination, ReadOnly: !m.RW, Name: m.Name,
		CopyUp: m.Type == "volume" && !m.NoCopy, Propagation: m.Propagation,
		Tmpfs: m.Type == "tmpfs", Options: m.Options}
}

// RemoveOptions are docker rm's options: -f, and -v for the container's
// anonymous volumes.
type RemoveOptions struct{ Force, Volumes bool }

// Remove is docker rm [-f] [-v]: RemoveContainer, and with Volumes the
// anonymous volumes the container made.
func (e *Engine) Remove(ref string, o RemoveOptions) error {
	c, err := e.container(ref)
	if err != nil {
		return err
	}
	if err := e.remove(c, o.Force); err != nil {
		return containerErr(ref, err)
	}
	if o.Volumes {
		return e.removeAnonymousVolumes(c)
	}
	return nil
}

// removeAnonymousVolumes removes the anonymous volumes c made (docker rm
// -v, run --rm); never a named one, and not one another container uses
// now (as dockerd, which leaves those be).
func (e *Engine) removeAnonymousVolumes(c *state.Container) error {
	var errs []error
	for _, m := range c.Config.Mounts {
		if m.Type != "volume" || !m.Anonymous {
			continue
		}
		if err := e.RemoveVolume(m.Name); err != nil && !errdefs.IsConflict(err) && !errdefs.IsNotFound(err) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
