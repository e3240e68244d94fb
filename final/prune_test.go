//go:build linux

package main

import (
	"bytes"
	"encoding/json"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/stretchr/testify/require"

	"minidocker/internal/testkit"
	"minidocker/internal/units"
)

// mdIn runs minidocker with stdin (a prune's answer to its prompt).
func (w *world) mdIn(stdin string, args ...string) testkit.Result {
	w.t.Helper()
	var stdout, stderr bytes.Buffer
	cmd := exec.Command(w.bin, args...)
	cmd.Env = append(os.Environ(), w.env...)
	cmd.Stdin = strings.NewReader(stdin)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	code := testkit.ExitCode(w.t, cmd.Run())
	return testkit.Result{Stdout: stdout.String(), Stderr: stderr.String(), Code: code}
}

// filesSize adds up the regular files under dir, as the kernel reports
// their sizes: what a layer or a writable layer holds on disk (0 when dir
// is not there).
func filesSize(t *testing.T, dir string) int64 {
	t.Helper()
	var n int64
	err := filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		fi, err := d.Info()
		if err == nil {
			n += fi.Size()
		}
		return err
	})
	if os.IsNotExist(err) {
		return 0
	}
	require.NoError(t, err)
	return n
}

// layerDirs are the unpacked layers of img in the world's store.
func (w *world) layerDirs(img v1.Image) []string {
	cfg, err := img.ConfigFile()
	require.NoError(w.t, err)
	var dirs []string
	for _, d := range cfg.RootFS.DiffIDs {
		dirs = append(dirs, filepath.Join(w.root, "layers", "sha256", d.Hex))
	}
	return dirs
}

func (w *world) id(ref string) string { return w.inspect(ref)["Id"].(string) }

// diffIDs are img's layers' diffIDs.
func diffIDs(t *testing.T, img v1.Image) []string {
	cfg, err := img.ConfigFile()
	require.NoError(t, err)
	var out []string
	for _, d := range cfg.RootFS.DiffIDs {
		out = append(out, d.String())
	}
	return out
}

// imageWith is an image of the busybox layer and one of its own, a file
// of size bytes: it shares the busybox layer with busybox.
func imageWith(t *testing.T, name string, size int, labels map[string]string) v1.Image {
	return testkit.Image(t, v1.Config{Cmd: []string{"sh"}, Labels: labels},
		testkit.BusyboxLayer(t), testkit.Layer(t, testkit.File(name, strings.Repeat("x", size), 0o644)))
}

// TestLabels: run --label and --label-file over the image's labels,
// inspect shows them, ps and images filter on them (values of label=
// AND'd), and ps templates show them.
func TestLabels(t *testing.T) {
	w := newWorld(t)
	w.registry.Push(t, "library/labelled:latest", imageWith(t, "l", 10, map[string]string{"maintainer": "course", "tier": "image"}))
	w.ok("pull", "busybox")
	w.ok("pull", "labelled")
	file := filepath.Join(t.TempDir(), "labels")
	require.NoError(t, os.WriteFile(file, []byte("# a comment\n\n  tier=file\nfrom-file\n"), 0o644))
	w.ok("run", "--network", "none", "--name", "lab", "--label-file", file, "--label", "app=web", "-l", "tier=flag", "labelled", "true")
	w.ok("run", "--network", "none", "--name", "plain", "--label", "app=db", "busybox", "true")

	require.Equal(t, map[string]any{"maintainer": "course", "tier": "flag", "from-file": "", "app": "web"},
		w.inspect("lab")["Config"].(map[string]any)["Labels"])
	require.Equal(t, map[string]any{"app": "db"}, w.inspect("plain")["Config"].(map[string]any)["Labels"])

	names := func(args ...string) string {
		return w.ok(append([]string{"ps", "-a", "--format", "{{.Names}}"}, args...)...)
	}
	require.Equal(t, "lab\n", names("--filter", "label=app=web"))
	require.Equal(t, "plain\nlab\n", names("--filter", "label=app"))
	require.Equal(t, "lab\n", names("--filter", "label=app", "--filter", "label=maintainer"), "label= values are AND'd")
	require.Equal(t, "", names("--filter", "label=app=nope"))
	require.Equal(t, "web|app=web,from-file=,maintainer=course,tier=flag\n",
		w.ok("ps", "-a", "--filter", "name=lab", "--format", `{{.Label "app"}}|{{.Labels}}`))
	require.Regexp(t, `^NAMES\s+some key\nlab\s+$`, w.ok("ps", "-a", "--filter", "name=lab", "--format", `table {{.Names}}\t{{.Label "com.example.some-key"}}`))
	var row map[string]string
	require.NoError(t, json.Unmarshal([]byte(w.ok("ps", "-a", "--filter", "name=lab", "--format", "{{json .}}")), &row))
	require.Equal(t, "app=web,from-file=,maintainer=course,tier=flag", row["Labels"])
	require.NotContains(t, row, "label app", "the labels' own keys are not fields")

	require.Regexp(t, `^REPOSITORY.*\nlabelled\s+latest\s`, w.ok("images", "--filter", "label=maintainer=course"))
	require.Regexp(t, `^REPOSITORY.*\nlabelled\s+latest\s.*\n$`, w.ok("images", "--filter", "label=tier"), "busybox has no labels")
	require.Equal(t, 3, strings.Count(w.ok("images", "--filter", "dangling=false"), "\n"), "both images, and the header")
	require.Equal(t, "", w.ok("images", "-q", "--filter", "dangling=true"))
	r := w.md("images", "--filter", "nope=1")
	require.Equal(t, 1, r.Code)
	require.Equal(t, "Error: invalid filter 'nope'\n", r.Stderr)

	r = w.md("run", "--label-file", "/nonexistent/labels", "busybox", "true")
	require.Equal(t, 125, r.Code)
	require.Contains(t, r.Stderr, "/nonexistent/labels: no such file or directory")
}

// TestPrune: prunes remove exactly what they say, from a mix of a running
// container, stopped ones (one labelled), a dangling image, an image only
// a stopped container uses, an unused tagged image, all sharing the
// busybox layer; the space they report is the size of what left the disk;
// system df's numbers are what is on disk; the prompt refuses on "n" and
// on an empty stdin.
func TestPrune(t *testing.T) {
	w := newWorld(t)
	tools := imageWith(t, "tools", 3000, nil)
	extra := imageWith(t, "extra", 7000, map[string]string{"purpose": "extra"})
	old := imageWith(t, "old", 11000, nil)
	w.registry.Push(t, "library/tools:latest", tools)
	w.registry.Push(t, "library/extra:latest", extra)
	w.registry.Push(t, "library/moving:latest", old)
	for _, ref := range []string{"busybox", "tools", "extra", "moving"} {
		w.ok("pull", ref)
	}
	// moving's tag moves to another image: the old one is dangling.
	oldID := w.id("moving")
	w.registry.Push(t, "library/moving:latest", imageWith(t, "new", 5, nil))
	w.ok("pull", "moving")
	require.Regexp(t, `(?m)^<none>\s+<none>\s+`+oldID[7:19], w.ok("images"))
	require.Equal(t, 2, strings.Count(w.ok("images", "--filter", "dangling=true"), "\n"))

	bbLayer, toolsLayer, extraLayer, oldLayer := w.layerDirs(tools)[0], w.layerDirs(tools)[1], w.layerDirs(extra)[1], w.layerDirs(old)[1]
	up := strings.TrimSpace(w.ok("run", "-d", "--network", "none", "--name", "up", "busybox", "sleep", "1000"))
	stopped := strings.TrimSpace(w.ok("run", "-d", "--network", "none", "--name", "stopped", "tools", "sh", "-c", "head -c 5000 /dev/zero >/f"))
	lab := strings.TrimSpace(w.ok("run", "-d", "--network", "none", "--name", "lab", "--label", "keep=yes", "busybox", "sh", "-c", "echo hi >/g"))
	w.ok("wait", "stopped", "lab")
	upper := func(id string) string { return filepath.Join(w.root, "containers", id, "upper") }
	require.Equal(t, int64(5000), filesSize(t, upper(stopped)))

	// Dangling only: the old image and its own layer; the busybox layer it
	// shared stays.
	oldSize := filesSize(t, oldLayer)
	require.Equal(t, int64(11000), oldSize)
	require.Equal(t, "Deleted Images:\ndeleted: "+oldID+"\ndeleted: "+diffIDs(t, old)[1]+"\n\nTotal reclaimed space: 11kB\n",
		w.ok("image", "prune", "-f"))
	require.NotContains(t, w.ok("images"), "<none>")
	require.NoDirExists(t, oldLayer)
	require.DirExists(t, bbLayer)
	require.Equal(t, "Total reclaimed space: 0B\n", w.ok("image", "prune", "-f"), "nothing dangling is left")

	// system df, before -a: four images (busybox, tools, extra, moving),
	// two used; the layers each counted once; what image prune -a would
	// free (extra's and moving's own layers) is reclaimable.
	movingLayer := w.layerDirs(imageWith(t, "new", 5, nil))[1]
	layersSize := filesSize(t, bbLayer) + filesSize(t, toolsLayer) + filesSize(t, extraLayer) + filesSize(t, movingLayer)
	free := filesSize(t, extraLayer) + filesSize(t, movingLayer)
	ctrSize := filesSize(t, upper(up)) + filesSize(t, upper(stopped)) + filesSize(t, upper(lab))
	stoppedSize := filesSize(t, upper(stopped)) + filesSize(t, upper(lab))
	df := w.ok("system", "df")
	require.Regexp(t, `^TYPE\s+TOTAL\s+ACTIVE\s+SIZE\s+RECLAIMABLE\n`, df)
	hs := func(n int64) string { return regexp.QuoteMeta(units.HumanSizeWithPrecision(n, 4)) }
	pct := func(n, total int64) string { return hs(n) + ` \(` + strconv.FormatInt(n*100/total, 10) + `%\)` }
	require.Regexp(t, `(?m)^Images\s+4\s+2\s+`+hs(layersSize)+`\s+`+pct(free, layersSize)+`$`, df)
	require.Regexp(t, `(?m)^Containers\s+3\s+1\s+`+hs(ctrSize)+`\s+`+pct(stoppedSize, ctrSize)+`$`, df)
	require.Regexp(t, `(?m)^Local Volumes\s+0\s+0\s+0B\s+0B$`, df)
	require.Regexp(t, `(?m)^Build Cache\s+0\s+0\s+0B\s+0B$`, df)
	dfv := w.ok("system", "df", "-v")
	require.Regexp(t, `(?m)^tools\s+latest\s+`+w.id("tools")[7:19]+`\s+.* ago\s+\S+\s+`+hs(filesSize(t, bbLayer))+`\s+`+hs(filesSize(t, toolsLayer))+`\s+1$`, dfv)
	require.Regexp(t, `(?m)^`+stopped[:12]+`\s+tools\s+.*\s0\s+5kB\s+.*\sstopped$`, dfv)

	// ps -s: the writable layer, and with the image's layers "virtual".
	require.Regexp(t, `(?m)\sstopped\s+5kB \(virtual `+regexp.QuoteMeta(units.HumanSize(5000+filesSize(t, bbLayer)+filesSize(t, toolsLayer)))+`\)$`, w.ok("ps", "-a", "-s"))

	// The prompt: "n" and an empty stdin are a no; nothing is removed.
	for _, answer := range []string{"n\n", ""} {
		r := w.mdIn(answer, "container", "prune")
		require.Equal(t, 0, r.Code, "stderr: %s", r.Stderr)
		require.Equal(t, "WARNING! This will remove all stopped containers.\nAre you sure you want to continue? [y/N] ", r.Stdout)
		r = w.mdIn(answer, "image", "prune", "-a")
		require.Equal(t, "WARNING! This will remove all images without at least one container associated to them.\nAre you sure you want to continue? [y/N] ", r.Stdout)
	}
	require.Len(t, strings.Fields(w.ok("ps", "-aq")), 3)
	require.DirExists(t, extraLayer)

	// Filters: until= keeps what is newer; label!= keeps the labelled one.
	require.Equal(t, "Total reclaimed space: 0B\n", w.ok("container", "prune", "-f", "--filter", "until=1h"))
	require.Equal(t, "Total reclaimed space: 0B\n", w.ok("image", "prune", "-a", "-f", "--filter", "label=purpose=other"))
	r := w.md("container", "prune", "-f", "--filter", "until=soon")
	require.Equal(t, 1, r.Code)
	require.Contains(t, r.Stderr, `failed to parse value as time or duration: "soon"`)
	require.Equal(t, "Deleted Containers:\n"+stopped+"\n\nTotal reclaimed space: 5kB\n",
		w.ok("container", "prune", "-f", "--filter", "label!=keep=yes"))
	require.ElementsMatch(t, []string{up[:12], lab[:12]}, strings.Fields(w.ok("ps", "-aq")))

	// -a: every image no container uses (tools, now; extra; moving), with
	// the layers only they had; busybox's layer stays (up and lab use it).
	free = filesSize(t, toolsLayer) + filesSize(t, extraLayer) + filesSize(t, movingLayer)
	out := w.ok("image", "prune", "-a", "-f")
	require.Contains(t, out, "untagged: tools:latest\n")
	require.Contains(t, out, "untagged: extra:latest\n")
	require.Contains(t, out, "untagged: moving:latest\n")
	require.NotContains(t, out, "busybox")
	require.True(t, strings.HasSuffix(out, "\n\nTotal reclaimed space: "+units.HumanSizeWithPrecision(free, 4)+"\n"), out)
	for _, dir := range []string{toolsLayer, extraLayer, movingLayer} {
		require.NoDirExists(t, dir)
	}
	require.DirExists(t, bbLayer)
	require.Regexp(t, `^REPOSITORY.*\nbusybox\s+latest\s+\S+\s+.*\n$`, w.ok("images"))

	// system prune with the prompt answered: the stopped lab goes, the
	// running up and its image stay.
	r = w.mdIn("y\n", "system", "prune", "-a")
	require.Equal(t, 0, r.Code, r.Stderr)
	require.Equal(t, "WARNING! This will remove:\n  - all stopped containers\n  - all images without at least one container associated to them\n  - unused build cache\n\n"+
		"Are you sure you want to continue? [y/N] Deleted Containers:\n"+lab+"\n\nTotal reclaimed space: 3B\n", r.Stdout)
	require.Equal(t, []string{up[:12]}, strings.Fields(w.ok("ps", "-aq")))
	require.Equal(t, true, w.state("up")["Running"])
	require.Contains(t, w.ok("images"), "busybox")
}

// TestDaemonPrune: the real docker CLI's run --label, ps --filter label=
// and -s, images --filter, system df, container prune and image prune -a
// against the daemon; and minidocker -H's, through the API client.
func TestDaemonPrune(t *testing.T) {
	requireDocker(t)
	w := newWorld(t)
	extra := imageWith(t, "extra", 7000, map[string]string{"purpose": "extra"})
	w.registry.Push(t, "library/extra:latest", extra)
	d := startDaemon(t, w, filepath.Join(t.TempDir(), "d.sock"))
	mdH := func(args ...string) string { return w.ok(append([]string{"-H", "unix://" + d.sock}, args...)...) }
	d.dockerOK("pull", "busybox")
	d.dockerOK("pull", "extra")
	d.dockerOK("run", "--network", "none", "--name", "lab", "--label", "app=web", "busybox", "sh", "-c", "head -c 2000 /dev/zero >/f")
	lab := strings.TrimSpace(d.dockerOK("inspect", "-f", "{{.Id}}", "lab"))
	d.dockerOK("run", "-d", "--network", "none", "--name", "up", "busybox", "sleep", "1000")

	require.Equal(t, `{"app":"web"}`+"\n", d.dockerOK("inspect", "-f", "{{json .Config.Labels}}", "lab"))
	require.Equal(t, "lab\n", d.dockerOK("ps", "-a", "--filter", "label=app=web", "--format", "{{.Names}}"))
	require.Equal(t, "", d.dockerOK("ps", "-a", "--filter", "label=app=db", "--format", "{{.Names}}"))
	require.Equal(t, "web app=web\n", d.dockerOK("ps", "-a", "--filter", "name=lab", "--format", `{{.Label "app"}} {{.Labels}}`))
	require.Equal(t, "web app=web\n", mdH("ps", "-a", "--filter", "name=lab", "--format", `{{.Label "app"}} {{.Labels}}`))
	bb := filesSize(t, w.layerDirs(extra)[0])
	virtual := regexp.QuoteMeta(units.HumanSize(2000 + bb))
	require.Regexp(t, `(?m)\slab\s+2kB \(virtual `+virtual+`\)$`, d.dockerOK("ps", "-a", "-s"))
	require.Regexp(t, `(?m)\slab\s+2kB \(virtual `+virtual+`\)$`, mdH("ps", "-a", "-s"))
	require.Regexp(t, `^REPOSITORY.*\nextra\s+latest\s`, d.dockerOK("images", "--filter", "label=purpose=extra"))

	// system df: the docker CLI makes the table from the daemon's items.
	layers := bb + filesSize(t, w.layerDirs(extra)[1])
	for _, df := range []string{d.dockerOK("system", "df"), mdH("system", "df")} {
		require.Regexp(t, `(?m)^Images\s+2\s+1\s+`+regexp.QuoteMeta(units.HumanSizeWithPrecision(layers, 4))+`\s`, df)
		require.Regexp(t, `(?m)^Containers\s+2\s+1\s+2kB\s+2kB \(100%\)$`, df)
	}

	require.Equal(t, "Deleted Containers:\n"+lab+"\n\nTotal reclaimed space: 2kB\n", d.dockerOK("container", "prune", "-f"))
	out := d.dockerOK("image", "prune", "-a", "-f")
	require.Contains(t, out, "untagged: extra:latest\n")
	require.Contains(t, out, "deleted: "+diffIDs(t, extra)[1]+"\n")
	require.NotContains(t, out, "busybox", "up uses busybox")
	require.True(t, strings.HasSuffix(out, "\nTotal reclaimed space: 7kB\n"), out)
	require.Equal(t, "Total reclaimed space: 0B\n", mdH("container", "prune", "-f"))
	require.Equal(t, "Total reclaimed space: 0B\n", mdH("image", "prune", "-a", "-f"))
	require.Equal(t, "up\n", d.dockerOK("ps", "--format", "{{.Names}}"))
	// docker system prune ends with the build cache's: there is none.
	require.Equal(t, "Total reclaimed space: 0B\n", d.dockerOK("builder", "prune", "-f"))
}
