package cgroups

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// hierarchy is one mounted cgroup tree and where the container goes in it.
type hierarchy struct {
	v2          bool
	mount       string   // e.g. /sys/fs/cgroup/memory, or /sys/fs/cgroup (v2)
	controllers []string // the ones we use that it carries
	base        string   // our cgroup (or --cgroup-parent) inside the tree
	from        string   // where the directories we may create begin: our cgroup, or "/"
	dir         string   // mount + base + minidocker/<id>
}

// mountedTree is a cgroup mount from mountinfo.
type mountedTree struct {
	v2          bool
	mount       string
	controllers []string // v1: from the super options; v2: from cgroup.controllers
}

// readMounts lists the cgroup mounts of mountinfo(5), moving mount points
// under DefaultFSRoot to fsRoot:
//
//	36 25 0:31 / /sys/fs/cgroup/memory rw,relatime shared:14 - cgroup cgroup rw,memory
//	30 25 0:26 / /sys/fs/cgroup/unified rw,relatime shared:6 - cgroup2 cgroup2 rw
func readMounts(mountinfo, fsRoot string) ([]mountedTree, error) {
	f, err := os.Open(mountinfo)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []mountedTree
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		pre, post, ok := strings.Cut(sc.Text(), " - ")
		if !ok {
			continue
		}
		fields, opts := strings.Fields(pre), strings.Fields(post)
		if len(fields) < 5 || len(opts) < 3 {
			continue
		}
		mount := fields[4]
		if fsRoot != DefaultFSRoot {
			rel, ok := strings.CutPrefix(mount, DefaultFSRoot)
			if !ok {
				continue
			}
			mount = filepath.Join(fsRoot, rel)
		}
		switch opts[0] {
		case "cgroup":
			var ctrls []string
			for o := range strings.SplitSeq(opts[2], ",") {
				if wanted(o) {
					ctrls = append(ctrls, o)
				}
			}
			if len(ctrls) > 0 {
				out = append(out, mountedTree{mount: mount, controllers: ctrls})
			}
		case "cgroup2":
			t := mountedTree{v2: true, mount: mount}
			if data, err := os.ReadFile(filepath.Join(mount, "cgroup.controllers")); err == nil {
				for _, c := range strings.Fields(string(data)) {
					if wanted(c) {
						t.controllers = append(t.controllers, c)
					}
					if c == "cpu" { // v2's cpu also does cpuacct's accounting (cpu.stat)
						t.controllers = append(t.controllers, "cpuacct")
					}
				}
				// v2 has no freezer controller: cgroup.freeze and
				// cgroup.kill are in every non-root cgroup. Nor a devices
				// controller: a BPF program attached to the cgroup
				// decides (devices_linux.go).
				t.controllers = append(t.controllers, "freezer", "devices")
			}
			out = append(out, t)
		}
	}
	return out, sc.Err()
}

// readOwnCgroups maps each v1 controller, and "" for v2, to our cgroup:
//
//	4:memory:/process_api/9be4…
//	0::/
func readOwnCgroups(procSelfCgroup string) (map[string]string, error) {
	data, err := os.ReadFile(procSelfCgroup)
	if err != nil {
		return nil, err
	}
	own := map[string]string{}
	for line := range strings.SplitSeq(strings.TrimSpace(string(data)), "\n") {
		parts := strings.SplitN(line, ":", 3)
		if len(parts) != 3 {
			continue
		}
		if parts[1] == "" {
			own[""] = parts[2]
			continue
		}
		for c := range strings.SplitSeq(parts[1], ",") {
			own[c] = parts[2]
		}
	}
	return own, nil
}

// hierarchies decides, per controller, which tree holds it: a controller
// mounted as v1 stays on v1 even when a v2 tree is also mounted (hybrid,
// like the course VM, whose v2 tree at /sys/fs/cgroup/unified holds only
// hugetlb); a v2 tree is used only for controllers it really has.
func hierarchies(cfg Config) ([]*hierarchy, error) {
	mounts, err := readMounts(cfg.ProcSelfMountinfo, cfg.FSRoot)
	if err != nil {
		return nil, fmt.Errorf("find cgroup mounts: %w", err)
	}
	own, err := readOwnCgroups(cfg.ProcSelfCgroup)
	if err != nil {
		return nil, fmt.Errorf("find our own cgroup: %w", err)
	}
	var out []*hierarchy
	taken := map[string]bool{}
	// v1 trees first: on a hybrid host they are where the controllers work.
	for _, pass := range []bool{false, true} {
		for _, m := range mounts {
			if m.v2 != pass {
				continue
			}
			h := &hierarchy{v2: m.v2, mount: m.mount}
			for _, c := range m.controllers {
				if !taken[c] {
					h.controllers = append(h.controllers, c)
				}
			}
			if len(h.controllers) == 0 || (m.v2 && !hasAny(h.controllers, "memory", "cpu", "pids")) {
				continue
			}
			for _, c := range h.controllers {
				taken[c] = true
			}
			key := h.controllers[0]
			if m.v2 {
				key = ""
			}
			h.base = own[key]
			if h.base == "" && !filepath.IsAbs(cfg.Parent) && !filepath.IsAbs(cfg.Path) {
				return nil, fmt.Errorf("find our own %s cgroup in %s: no line for it", key, cfg.ProcSelfCgroup)
			}
			// --cgroup-parent as Docker reads it: "/a/b" from the root of
			// the tree, "a/b" beneath the cgroup we run in.
			h.from = h.base
			if filepath.IsAbs(cfg.Parent) {
				h.base, h.from = filepath.Clean(cfg.Parent), "/"
			} else if cfg.Parent != "" {
				h.base = filepath.Join(h.base, cfg.Parent)
			}
			h.dir = filepath.Join(h.mount, h.base, "minidocker", cfg.ID)
			if cfg.Path != "" {
				h.from, h.dir = h.base, filepath.Join(h.mount, h.base, cfg.Path)
				if filepath.IsAbs(cfg.Path) {
					h.base, h.from, h.dir = filepath.Dir(cfg.Path), "/", filepath.Join(h.mount, cfg.Path)
				} else {
					h.base = filepath.Dir(filepath.Join(h.base, cfg.Path))
				}
			}
			for _, c := range h.controllers {
				if p, ok := cfg.Paths[c]; ok {
					h.dir = p // Load: where the container really is
				}
			}
			out = append(out, h)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no cgroup tree with memory, cpu or pids is mounted: %w", ErrNoController)
	}
	return out, nil
}

func hasAny(list []string, names ...string) bool {
	for _, n := range names {
		if slices.Contains(list, n) {
			return true
		}
	}
	return false
}
