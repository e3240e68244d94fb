//go:build linux

package main

import (
	"archive/tar"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"minidocker/internal/testkit"
)

// context writes a build context: name -> content.
func buildContext(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		p := filepath.Join(dir, name)
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(t, os.WriteFile(p, []byte(content), 0o644))
	}
	return dir
}

// TestBuild: every instruction, in a two-stage Dockerfile, and what the
// built image holds when it runs.
func TestBuild(t *testing.T) {
	w := newWorld(t)
	w.ok("pull", "busybox")
	ctx := buildContext(t, map[string]string{
		"site/index.html": "<h1>built</h1>\n",
		"site/skip.tmp":   "ignored\n",
		"secret.env":      "TOKEN=1\n",
		".dockerignore":   "*.env\n**/*.tmp\n",
		"Dockerfile": `# syntax is Docker's: comments, continuations, both forms
ARG BASE=busybox
FROM ${BASE} AS tools
RUN mkdir -p /out && echo tool > /out/tool.txt

FROM ${BASE}
ARG GREETING=hello
ENV APP=/app \
    MODE=prod
WORKDIR $APP
COPY site/ ./site/
COPY --from=tools /out/tool.txt ./
ADD data.tar /app/unpacked/
RUN echo "${GREETING:-none} $MODE $(pwd)" > made.txt \
 && rm /etc/group \
 && rm -rf /home && mkdir /home && echo new > /home/only
RUN adduser -D -u 1234 app 2>/dev/null || echo 'app:x:1234:1234::/app:/bin/sh' >> /etc/passwd
COPY --chown=app site/index.html /app/owned.html
USER app
RUN id -u > /tmp/whoami
EXPOSE 8080 53/udp
LABEL course.step=build other="two words"
STOPSIGNAL SIGUSR1
VOLUME /data
ENTRYPOINT ["/bin/sh", "-c"]
CMD ["cat /app/made.txt"]
`,
	})
	// ADD's archive: a tar made here.
	f, err := os.Create(filepath.Join(ctx, "data.tar"))
	require.NoError(t, err)
	tw := tar.NewWriter(f)
	require.NoError(t, tw.WriteHeader(&tar.Header{Name: "from-tar.txt", Mode: 0o644, Size: 3}))
	_, err = tw.Write([]byte("tar"))
	require.NoError(t, err)
	require.NoError(t, tw.Close())
	require.NoError(t, f.Close())

	out := w.ok("build", "--build-arg", "GREETING=hi", "-t", "course/app:v1", ctx)
	require.Contains(t, out, "Step 1/20 : FROM ${BASE} AS tools\n")
	require.Contains(t, out, "Successfully tagged course/app:v1\n")

	require.Equal(t, "hi prod /app\n", w.ok("run", "--rm", "--network", "none", "course/app:v1"))
	look := func(cmd string) string {
		return w.ok("run", "--rm", "--network", "none", "--user", "0", "course/app:v1", cmd)
	}
	require.Equal(t, "<h1>built</h1>\n", look("cat /app/site/index.html"))
	require.Equal(t, "tool\n", look("cat /app/tool.txt"), "COPY --from the first stage")
	require.Equal(t, "tar", look("cat /app/unpacked/from-tar.txt"), "ADD unpacked the local tar")
	require.Equal(t, "gone\n", look("test -e /etc/group && echo there || echo gone"), "RUN rm: a whiteout hides the base's file")
	require.Equal(t, "only\n", look("ls /home"), "rm -rf and mkdir: an opaque directory hides the base's")
	require.Equal(t, "absent absent\n", look("for f in site/skip.tmp secret.env; do test -e /app/$f && echo present || echo absent; done | tr '\\n' ' ' | sed 's/ $/\\n/'"), ".dockerignore")
	require.Equal(t, "1234\n", look("cat /tmp/whoami"), "USER is the next RUN's user")
	require.Equal(t, "1234:1234\n", look("stat -c %u:%g /app/owned.html"), "--chown by name, from the image's /etc/passwd")

	img := w.inspect("course/app:v1")
	cfg := img["Config"].(map[string]any)
	require.Equal(t, "/app", cfg["WorkingDir"])
	require.Equal(t, "app", cfg["User"])
	require.Equal(t, "SIGUSR1", cfg["StopSignal"])
	require.Equal(t, []any{"/bin/sh", "-c"}, cfg["Entrypoint"])
	require.Equal(t, []any{"cat /app/made.txt"}, cfg["Cmd"])
	require.Contains(t, cfg["Env"], "APP=/app")
	require.NotContains(t, strings.Join(toStrings(cfg["Env"]), " "), "GREETING", "an ARG is not the image's environment")
	require.Equal(t, map[string]any{"course.step": "build", "other": "two words"}, cfg["Labels"])
	require.Contains(t, cfg["ExposedPorts"], "53/udp")
	require.Contains(t, cfg["Volumes"], "/data")

	// Only the named image shows: the steps' images are the cache.
	images := w.ok("images")
	require.Equal(t, 3, strings.Count(images, "\n"), images)

	// Pushed to the real registry, unpacked by umoci: the built files.
	reg := testkit.DistributionRegistry(t)
	target := reg.Host() + "/course/app:v1"
	w.ok("tag", "course/app:v1", target)
	w.ok("push", target)
	layout := filepath.Join(t.TempDir(), "oci")
	tool(t, "skopeo", "copy", "--src-tls-verify=false", "docker://"+target, "oci:"+layout+":v1")
	bundle := filepath.Join(t.TempDir(), "bundle")
	tool(t, "umoci", "unpack", "--image", layout+":v1", bundle)
	made, err := os.ReadFile(filepath.Join(bundle, "rootfs", "app", "made.txt"))
	require.NoError(t, err)
	require.Equal(t, "hi prod /app\n", string(made))
	_, err = os.Stat(filepath.Join(bundle, "rootfs", "etc", "group"))
	require.True(t, os.IsNotExist(err), "the whiteout went through the registry and umoci")
	for _, mp := range []string{"etc/hosts", "etc/resolv.conf", "etc/hostname", "proc", "sys", "dev"} {
		_, err := os.Lstat(filepath.Join(bundle, "rootfs", mp))
		require.True(t, os.IsNotExist(err), "%s: a RUN container's mount point ended in a layer", mp)
	}
}

func toStrings(v any) []string {
	var out []string
	for _, x := range v.([]any) {
		out = append(out, x.(string))
	}
	return out
}

// TestBuildCache: a second build is all "Using cache"; a changed copied
// file runs its step and the ones after again; with SOURCE_DATE_EPOCH two
// builds without the cache give the same image ID.
func TestBuildCache(t *testing.T) {
	w := newWorld(t)
	ctx := buildContext(t, map[string]string{
		"deps.txt": "a\n",
		"src.txt":  "one\n",
		"Dockerfile": `FROM busybox
WORKDIR /work
COPY deps.txt /deps.txt
RUN cat /deps.txt > installed
COPY src.txt /src.txt
RUN cat /src.txt installed > /all
`,
	})
	first := w.ok("build", "-t", "c:1", ctx)
	require.NotContains(t, first, "Using cache")
	again := w.ok("build", "-t", "c:1", ctx)
	require.Equal(t, 5, strings.Count(again, " ---> Using cache\n"), again)
	require.Equal(t, w.inspect("c:1")["Id"], w.inspect("c:1")["Id"])

	require.NoError(t, os.WriteFile(filepath.Join(ctx, "src.txt"), []byte("two\n"), 0o644))
	changed := w.ok("build", "-t", "c:2", ctx)
	require.Equal(t, 3, strings.Count(changed, " ---> Using cache\n"), "deps untouched: their steps cached, the rest run:\n%s", changed)
	require.Equal(t, "two\na\n", w.ok("run", "--rm", "--network", "none", "c:2", "cat", "/all"))

	// builder prune: the step images go (the named ones stay and run), and
	// the next build has no cache; the prompt says what goes.
	r := w.mdIn("n\n", "builder", "prune")
	require.Equal(t, "WARNING! This will remove all dangling build cache. Are you sure you want to continue? [y/N] ", r.Stdout)
	pruned := w.ok("builder", "prune", "-f")
	require.Regexp(t, `^Deleted build cache objects:\n(sha256:[0-9a-f]{64}\n)+\nTotal reclaimed space: `, pruned)
	require.Equal(t, "two\na\n", w.ok("run", "--rm", "--network", "none", "c:2", "cat", "/all"), "a named image survives the prune")
	require.NotContains(t, w.ok("build", "-t", "c:3", ctx), "Using cache", "the cache is gone")
	// c:3's steps are cache again; their layers are c:3's too, so nothing
	// is freed on disk, and c:3 still runs.
	require.Regexp(t, `^Deleted build cache objects:\n(sha256:[0-9a-f]{64}\n){4}\nTotal reclaimed space: 0B\n$`, w.ok("builder", "prune", "-f"))
	require.Equal(t, "two\na\n", w.ok("run", "--rm", "--network", "none", "c:3", "cat", "/all"))

	epoch := append(w.env, "SOURCE_DATE_EPOCH=1700000000")
	id1 := strings.TrimSpace(runWith(t, w, epoch, "build", "-q", "--no-cache", ctx))
	id2 := strings.TrimSpace(runWith(t, w, epoch, "build", "-q", "--no-cache", ctx))
	require.Regexp(t, `^sha256:[0-9a-f]{64}$`, id1)
	require.Equal(t, id1, id2, "two builds of the same context, the same image")
}

// TestBuildErrors: a failing RUN stops the build with its exit code and
// leaves no image and no container; bad Dockerfiles name their line; a
// RUN is confined like any container: it cannot mount.
func TestBuildErrors(t *testing.T) {
	w := newWorld(t)
	w.ok("pull", "busybox")
	before := w.ok("images")
	ctx := buildContext(t, map[string]string{"Dockerfile": "FROM busybox\nRUN echo partial > /p\nRUN exit 7\n"})
	r := w.md("build", "-t", "broken", ctx)
	require.Equal(t, 7, r.Code, r.Stderr)
	require.Contains(t, r.Stderr, "Dockerfile:3: The command '/bin/sh -c exit 7' returned a non-zero code: 7")
	require.Equal(t, before, w.ok("images"), "no image from a failed build")
	require.Equal(t, "", w.ok("ps", "-aq"), "no container left")

	for _, tc := range []struct{ dockerfile, want string }{
		{"FROM busybox\n\n# comment\nRUNN x\n", "Dockerfile:4: unknown instruction: RUNN"},
		{"FROM busybox\nCOPY missing /x\n", "Dockerfile:2: missing: not found in the build context"},
		{"FROM busybox\nCOPY a b /x\n", "Dockerfile:2:"},
		{"RUN true\n", "Dockerfile:1:"},
	} {
		ctx := buildContext(t, map[string]string{"Dockerfile": tc.dockerfile, "a": "a", "b": "b"})
		r := w.md("build", ctx)
		require.Equal(t, 1, r.Code, "%q: %s", tc.dockerfile, r.Stderr)
		require.Contains(t, r.Stderr, tc.want, tc.dockerfile)
	}

	// The same escape attempt as a container's: mount needs CAP_SYS_ADMIN.
	ctx = buildContext(t, map[string]string{"Dockerfile": "FROM busybox\nRUN mount -t tmpfs none /mnt\n"})
	r = w.md("build", ctx)
	require.NotEqual(t, 0, r.Code, "a RUN mounted a filesystem: %s", r.Stdout)
	require.Equal(t, "", w.ok("ps", "-aq"))
}

func runWith(t *testing.T, w *world, env []string, args ...string) string {
	t.Helper()
	saved := w.env
	w.env = env
	defer func() { w.env = saved }()
	return w.ok(args...)
}

// TestDaemonBuild: docker build (the classic builder's API, POST /build)
// with the real docker CLI and with minidocker -H, through the daemon.
func TestDaemonBuild(t *testing.T) {
	requireDocker(t)
	w := newWorld(t)
	d := startDaemon(t, w, filepath.Join(t.TempDir(), "d.sock"))
	ctx := buildContext(t, map[string]string{
		"hello.txt": "hello through the daemon\n",
		"Dockerfile": `FROM busybox
ARG WHO=nobody
COPY hello.txt /hello.txt
RUN echo "built for $WHO" >> /hello.txt
CMD ["cat", "/hello.txt"]
`,
	})
	cmd := d.dockerCmd("build", "--build-arg", "WHO=docker", "-t", "viadocker:1", ctx)
	cmd.Env = append(cmd.Env, "DOCKER_BUILDKIT=0")
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "docker build: %s", out)
	require.Contains(t, string(out), "Successfully tagged viadocker:1")
	require.Equal(t, "hello through the daemon\nbuilt for docker\n", d.dockerOK("run", "--rm", "--network", "none", "viadocker:1"))

	h := func(args ...string) testkit.Result {
		return w.md(append([]string{"-H", "unix://" + d.sock}, args...)...)
	}
	r := h("build", "--build-arg", "WHO=minidocker", "-t", "viah:1", ctx)
	require.Equal(t, 0, r.Code, r.Stderr)
	require.Contains(t, r.Stdout, "Step 4/5 : RUN echo \"built for $WHO\" >> /hello.txt\n")
	require.Equal(t, "hello through the daemon\nbuilt for minidocker\n", w.ok("run", "--rm", "--network", "none", "viah:1"))

	// A failing RUN: its exit code, through the daemon too.
	bad := buildContext(t, map[string]string{"Dockerfile": "FROM busybox\nRUN exit 5\n"})
	r = h("build", bad)
	require.Equal(t, 5, r.Code, r.Stderr)
	require.Contains(t, r.Stderr, "returned a non-zero code: 5")
	cmd = d.dockerCmd("build", bad)
	cmd.Env = append(cmd.Env, "DOCKER_BUILDKIT=0")
	out, err = cmd.CombinedOutput()
	var ee *exec.ExitError
	require.ErrorAs(t, err, &ee, "%s", out)
	require.Equal(t, 5, ee.ExitCode(), "docker build's exit code: %s", out)
	require.Equal(t, "", w.ok("ps", "-aq"), "no container left")
}
