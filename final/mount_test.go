//go:build linux

package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"minidocker/internal/imagebuild"
	"minidocker/internal/testkit"
)

// TestMountFlag: --mount's three types and --tmpfs, each doing what it
// says inside the container: a read-only bind refuses writes, a writable
// one writes to the host, a volume keeps its data, a tmpfs has its size
// limit and mode.
func TestMountFlag(t *testing.T) {
	w := newWorld(t)
	w.ok("pull", "busybox")
	host := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(host, "f"), []byte("from the host\n"), 0o644))
	run := func(args ...string) testkit.Result {
		return w.md(append([]string{"run", "--rm", "--network", "none"}, args...)...)
	}

	// bind, read-only (the "ro" alias, src/dst aliases).
	require.Equal(t, "from the host\n", w.ok("run", "--rm", "--network", "none",
		"--mount", "type=bind,src="+host+",dst=/h,ro", "busybox", "cat", "/h/f"))
	r := run("--mount", "type=bind,source="+host+",target=/h,readonly", "busybox", "touch", "/h/new")
	require.NotEqual(t, 0, r.Code, "a readonly bind was writable")
	require.Contains(t, r.Stderr, "Read-only file system")
	_, err := os.Stat(filepath.Join(host, "new"))
	require.ErrorIs(t, err, os.ErrNotExist)
	// bind, writable, with a propagation mode: the write lands on the host.
	w.ok("run", "--rm", "--network", "none", "--mount", "type=bind,source="+host+",target=/h,bind-propagation=rslave",
		"busybox", "sh", "-c", "echo back >/h/new")
	data, err := os.ReadFile(filepath.Join(host, "new"))
	require.NoError(t, err)
	require.Equal(t, "back\n", string(data))

	// volume (type=volume is the default), then the same volume with -v.
	w.ok("run", "--rm", "--network", "none", "--mount", "source=mv,destination=/data", "busybox", "sh", "-c", "echo kept >/data/f")
	require.Equal(t, "kept\n", w.ok("run", "--rm", "--network", "none", "-v", "mv:/data", "busybox", "cat", "/data/f"))
	// volume-nocopy: a new volume over the image's /etc is not filled
	// (only the network's files are mounted over it).
	require.NotContains(t, w.ok("run", "--rm", "--network", "none", "--mount", "type=volume,src=empty,dst=/etc,volume-nocopy",
		"busybox", "ls", "/etc"), "passwd")
	require.Contains(t, w.ok("run", "--rm", "--network", "none", "--mount", "type=volume,src=full,dst=/etc",
		"busybox", "ls", "/etc"), "passwd", "copy-up into a new --mount volume")

	// tmpfs with a size limit (1 MiB) and a mode: the kernel refuses the
	// second MiB, and the mount shows Docker's defaults (noexec...).
	out := w.ok("run", "--rm", "--network", "none", "--mount", "type=tmpfs,target=/t,tmpfs-size=1m,tmpfs-mode=1770",
		"busybox", "sh", "-c", "stat -c %a /t; grep ' /t ' /proc/mounts; dd if=/dev/zero of=/t/f bs=1024 count=2048 2>&1; ls -l /t/f")
	require.Contains(t, out, "1770\n")
	require.Regexp(t, `tmpfs /t tmpfs rw,nosuid,nodev,noexec,\S*size=1024k,mode=1770`, out)
	require.Contains(t, out, "No space left on device")
	require.Regexp(t, `\s1048576 `, out, "more than the size limit was written")
	// --tmpfs PATH:OPTIONS; exec undoes Docker's default noexec.
	out = w.ok("run", "--rm", "--network", "none", "--tmpfs", "/run/x:size=2m,exec", "busybox", "grep", " /run/x ", "/proc/mounts")
	require.Regexp(t, `^tmpfs /run/x tmpfs rw,nosuid,nodev,\S*size=2048k`, out)
	require.NotContains(t, out, "noexec")

	// inspect shows each mount as Docker does.
	w.ok("run", "--name", "insp", "--network", "none", "--mount", "type=bind,src="+host+",dst=/h,readonly",
		"--mount", "type=volume,src=mv,dst=/data", "--mount", "type=tmpfs,dst=/t", "busybox", "true")
	var mounts []map[string]any
	raw, _ := json.Marshal(w.inspect("insp")["Mounts"])
	require.NoError(t, json.Unmarshal(raw, &mounts))
	require.Len(t, mounts, 3)
	byDest := map[string]map[string]any{}
	for _, m := range mounts {
		byDest[m["Destination"].(string)] = m
	}
	require.Equal(t, "bind", byDest["/h"]["Type"])
	require.Equal(t, host, byDest["/h"]["Source"])
	require.Equal(t, false, byDest["/h"]["RW"])
	require.Equal(t, "volume", byDest["/data"]["Type"])
	require.Equal(t, "mv", byDest["/data"]["Name"])
	require.Equal(t, filepath.Join(w.root, "volumes", "mv", "_data"), byDest["/data"]["Source"])
	require.Equal(t, true, byDest["/data"]["RW"])
	require.Equal(t, "tmpfs", byDest["/t"]["Type"])
	require.Equal(t, "rprivate", byDest["/h"]["Propagation"])
	require.Equal(t, "", byDest["/data"]["Propagation"])
	require.Equal(t, "local", byDest["/data"]["Driver"])
	require.Equal(t, "", byDest["/t"]["Source"])
}

// TestMountErrors: bad --mount, -v and --tmpfs specs get the docker CLI's
// (flag parsing, exit 125 with the usage hint) or dockerd's messages, and
// leave nothing behind.
func TestMountErrors(t *testing.T) {
	w := newWorld(t)
	w.ok("pull", "busybox")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--mount", "type=bind,source=/tmp"}, `invalid argument "type=bind,source=/tmp" for "--mount" flag: target is required`},
		{[]string{"--mount", "target=/x,foo=bar"}, `invalid argument "target=/x,foo=bar" for "--mount" flag: unexpected key 'foo' in 'foo=bar'`},
		{[]string{"--mount", "readonly,target"}, `invalid argument "readonly,target" for "--mount" flag: invalid field 'target' must be a key=value pair`},
		{[]string{"--mount", "type=tmpfs,target=/x,volume-nocopy"}, `invalid argument "type=tmpfs,target=/x,volume-nocopy" for "--mount" flag: cannot mix 'volume-*' options with mount type 'tmpfs'`},
		{[]string{"--mount", "type=bind,src=/tmp,dst=/x,tmpfs-mode=777"}, `cannot mix 'tmpfs-*' options with mount type 'bind'`},
		{[]string{"--mount", "type=tmpfs,target=/x,tmpfs-size=abc"}, `for "--mount" flag: invalid value for tmpfs-size: abc`},
		{[]string{"--mount", "type=bind,src=/tmp,dst=/x,ro=maybe"}, `for "--mount" flag: invalid value for ro: maybe`},
		{[]string{"--mount", "type=bind,target=/x"}, `invalid mount config for type "bind": field Source must not be empty`},
		{[]string{"--mount", "type=bind,source=/nope-md,target=/x"}, `invalid mount config for type "bind": bind source path does not exist: /nope-md`},
		{[]string{"--mount", "type=bind,source=/tmp,target=/x,bind-propagation=sideways"}, `invalid mount config for type "bind": invalid propagation mode: sideways`},
		{[]string{"--mount", "type=tmpfs,source=x,target=/x"}, `invalid mount config for type "tmpfs": field Source must not be specified`},
		{[]string{"--mount", "type=volume,target=/x,readonly"}, `invalid mount config for type "volume": must not set ReadOnly mode when using anonymous volumes`},
		{[]string{"--mount", "type=nfs,target=/x"}, `invalid mount config for type "nfs": mount type unknown`},
		{[]string{"--mount", "type=volume,src=ok,target=x"}, `invalid mount config for type "volume": invalid mount path: 'x' mount path must be absolute`},
		// The one rule for targets, whatever the form.
		{[]string{"--mount", "type=bind,src=/tmp,target=/proc/sys"}, `invalid mount path: '/proc/sys' cannot mount over /proc`},
		{[]string{"--mount", "type=tmpfs,target=/a/../etc"}, `invalid mount path: '/a/../etc' mount path must not contain '..'`},
		{[]string{"--tmpfs", "/sys/x"}, `invalid tmpfs mount /sys/x: invalid mount path: '/sys/x' cannot mount over /sys`},
		{[]string{"--tmpfs", "/x:size=1m,bogus"}, `invalid tmpfs option ["bogus"]`},
		{[]string{"-v", "/"}, `invalid argument "/" for "-v" flag: invalid volume specification: '/': cannot mount over /`},
		{[]string{"-v", "/tmp:/x", "--tmpfs", "/x"}, `Duplicate mount point: /x`},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			r := w.md(append(append([]string{"run", "--rm", "--network", "none"}, tc.args...), "busybox", "true")...)
			require.Equal(t, 125, r.Code, "stderr: %s", r.Stderr)
			require.Contains(t, r.Stderr, tc.want)
		})
	}
	// Checked before a pull: no "Unable to find image".
	r := w.md("run", "--rm", "--mount", "type=bind,target=/x", "notpulled")
	require.Equal(t, 125, r.Code)
	require.Equal(t, "Error: invalid mount config for type \"bind\": field Source must not be empty\n", r.Stderr)
	require.Equal(t, "", w.ok("ps", "-aq"), "a refused run left a container")
	require.Equal(t, "", w.ok("volume", "ls", "-q"), "a refused run left a volume")
}

// volumeImage is busybox with VOLUME /var/lib/db holding a seed file, as
// a database image declares its data directory.
func volumeImage(t *testing.T, w *world) {
	cfg := imagebuild.BusyboxConfig()
	cfg.Volumes = map[string]struct{}{"/var/lib/db": {}}
	tarData, err := imagebuild.LayerTar(imagebuild.Dir("var/lib/db", 0o755), imagebuild.File("var/lib/db/seed", "seeded\n", 0o644))
	require.NoError(t, err)
	l, err := imagebuild.Layer(tarData, "")
	require.NoError(t, err)
	w.registry.Push(t, "library/dbimage:latest", testkit.Image(t, cfg, testkit.BusyboxLayer(t), l))
	w.ok("pull", "dbimage")
}

var anonymousName = regexp.MustCompile(`^[0-9a-f]{64}$`)

// volumeNames lists the volumes, by name.
func (w *world) volumeNames() []string { return strings.Fields(w.ok("volume", "ls", "-q")) }

// TestAnonymousVolumes: -v /path and the image's VOLUME make volumes named
// by a random ID, filled from the image; plain rm keeps them (prune
// removes them), rm -v and run --rm remove them, never a named volume.
func TestAnonymousVolumes(t *testing.T) {
	w := newWorld(t)
	volumeImage(t, w)

	w.ok("run", "-d", "--name", "db", "--network", "none", "-v", "/scratch", "-v", "named:/named", "dbimage", "sleep", "1000")
	require.Equal(t, "seeded\n", w.ok("exec", "db", "cat", "/var/lib/db/seed"), "copy-up from the image into its VOLUME")
	w.ok("exec", "db", "sh", "-c", "echo x >/scratch/x")
	var mounts []map[string]any
	raw, _ := json.Marshal(w.inspect("db")["Mounts"])
	require.NoError(t, json.Unmarshal(raw, &mounts))
	require.Len(t, mounts, 3)
	anon := map[string]string{} // destination -> volume name
	for _, m := range mounts {
		require.Equal(t, "volume", m["Type"])
		name := m["Name"].(string)
		require.Equal(t, filepath.Join(w.root, "volumes", name, "_data"), m["Source"])
		require.Equal(t, true, m["RW"])
		if m["Destination"] != "/named" {
			require.Regexp(t, anonymousName, name)
			anon[m["Destination"].(string)] = name
		}
	}
	require.Len(t, anon, 2)
	vols := w.volumeNames()
	require.ElementsMatch(t, []string{anon["/scratch"], anon["/var/lib/db"], "named"}, vols)
	seed, err := os.ReadFile(filepath.Join(w.root, "volumes", anon["/var/lib/db"], "_data", "seed"))
	require.NoError(t, err)
	require.Equal(t, "seeded\n", string(seed))

	// Plain rm keeps them all; prune (without -a) takes the unused
	// anonymous ones, not the named one.
	w.ok("rm", "-f", "db")
	require.ElementsMatch(t, vols, w.volumeNames())
	pruned := w.ok("volume", "prune", "-f")
	require.Contains(t, pruned, anon["/scratch"])
	require.Contains(t, pruned, anon["/var/lib/db"])
	require.Equal(t, []string{"named"}, w.volumeNames())

	// rm -v: the anonymous ones go, the named one stays.
	w.ok("run", "--name", "c1", "--network", "none", "-v", "/scratch", "-v", "named:/named", "busybox", "true")
	require.Len(t, w.volumeNames(), 2)
	w.ok("rm", "-v", "c1")
	require.Equal(t, []string{"named"}, w.volumeNames())

	// run --rm, in the foreground and detached: gone with the container,
	// the image's VOLUME's too.
	w.ok("run", "--rm", "--network", "none", "-v", "/scratch", "dbimage", "true")
	id := strings.TrimSpace(w.ok("run", "-d", "--rm", "--network", "none", "-v", "named:/named", "dbimage", "true"))
	eventually(t, "the --rm container's removal", func() bool { return w.md("inspect", id).Code != 0 })
	require.Equal(t, []string{"named"}, w.volumeNames())
	// An anonymous volume that another container uses now is not removed
	// by rm -v (dockerd leaves it too).
	w.ok("run", "--name", "c2", "--network", "none", "-v", "/scratch", "busybox", "true")
	shared := slices.DeleteFunc(w.volumeNames(), func(n string) bool { return n == "named" })
	require.Len(t, shared, 1)
	w.ok("run", "--name", "c3", "--network", "none", "-v", shared[0]+":/s", "busybox", "true")
	w.ok("rm", "-v", "c2")
	require.Contains(t, w.volumeNames(), shared[0])
	w.ok("rm", "-v", "c3") // named by c3: not c3's anonymous volume
	require.Contains(t, w.volumeNames(), shared[0])
}

// TestDaemonMounts: the docker CLI's --mount, --tmpfs, -v /path and rm -v
// through the daemon (HostConfig.Mounts, HostConfig.Tmpfs, Config.Volumes,
// DELETE ?v=1).
func TestDaemonMounts(t *testing.T) {
	requireDocker(t)
	w := newWorld(t)
	d := startDaemon(t, w, filepath.Join(t.TempDir(), "d.sock"))
	host := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(host, "f"), []byte("hi\n"), 0o644))

	require.Equal(t, "hi\n", d.dockerOK("run", "--rm", "--network", "none", "--mount", "type=bind,src="+host+",dst=/h,readonly", "busybox", "cat", "/h/f"))
	r := d.docker("run", "--rm", "--network", "none", "--mount", "type=bind,src="+host+",dst=/h,readonly", "busybox", "touch", "/h/g")
	require.NotEqual(t, 0, r.Code, "a readonly bind was writable")
	out := d.dockerOK("run", "--rm", "--network", "none", "--mount", "type=tmpfs,dst=/t,tmpfs-size=1m", "--tmpfs", "/u:size=2m",
		"busybox", "grep", "tmpfs /[tu] ", "/proc/mounts")
	require.Regexp(t, `tmpfs /t tmpfs \S*size=1024k`, out)
	require.Regexp(t, `tmpfs /u tmpfs \S*size=2048k`, out)
	r = d.docker("run", "--rm", "--mount", "type=bind,src=/nope-md,dst=/x", "busybox", "true")
	require.Equal(t, 125, r.Code)
	require.Contains(t, r.Stderr, `Error response from daemon: invalid mount config for type "bind": bind source path does not exist: /nope-md`)

	d.dockerOK("run", "--name", "anon", "--network", "none", "-v", "/data", "--mount", "type=volume,dst=/more", "-v", "keep:/keep", "busybox", "sh", "-c", "echo x >/data/x; echo x >/keep/x")
	names := strings.Fields(d.dockerOK("volume", "ls", "-q"))
	require.Len(t, names, 3)
	mounts := d.dockerOK("inspect", "-f", "{{range .Mounts}}{{.Type}} {{.Destination}} {{.RW}}|{{end}}", "anon")
	for _, want := range []string{"volume /data true|", "volume /more true|", "volume /keep true|"} {
		require.Contains(t, mounts, want)
	}
	d.dockerOK("rm", "-v", "anon")
	require.Equal(t, "keep\n", d.dockerOK("volume", "ls", "-q"), "rm -v removed a named volume, or kept an anonymous one")
	d.dockerOK("run", "--rm", "--network", "none", "-v", "/data", "busybox", "true")
	require.Equal(t, "keep\n", d.dockerOK("volume", "ls", "-q"), "run --rm kept its anonymous volume")

	// minidocker's own CLI through the daemon (-H): the same requests.
	md := func(args ...string) string {
		r := testkit.Run(t, w.bin, w.env, append([]string{"-H", "unix://" + d.sock}, args...)...)
		require.Equal(t, 0, r.Code, "minidocker -H %v: %s", args, r.Stderr)
		return r.Stdout
	}
	out = md("run", "--rm", "--network", "none", "-v", "keep:/keep", "-v", "/anon", "--mount", "type=tmpfs,dst=/t,tmpfs-size=1m",
		"--tmpfs", "/u:size=2m", "busybox", "sh", "-c", "ls /keep; grep tmpfs /proc/mounts")
	require.Contains(t, out, "x\n", "-v NAME:/path through -H: not the named volume")
	require.Regexp(t, `tmpfs /t tmpfs \S*size=1024k`, out)
	require.Regexp(t, `tmpfs /u tmpfs \S*size=2048k`, out)
	require.Equal(t, "keep\n", d.dockerOK("volume", "ls", "-q"), "run --rm through -H kept its anonymous volume")
}
