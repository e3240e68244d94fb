package engine

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"
	"github.com/stretchr/testify/require"

	"minidocker/final/errdefs"
	"minidocker/final/state"
	"minidocker/internal/testkit"
	"minidocker/step05-pull/reference"
	"minidocker/step05-pull/registry"
)

// recorder is a PullProgress that counts what it was told.
type recorder struct{ starts, events, dones int }

func (r *recorder) Start(reference.Reference)                     { r.starts++ }
func (r *recorder) Event(registry.Progress)                       { r.events++ }
func (r *recorder) Done(digest.Digest, reference.Reference, bool) { r.dones++ }

// newEngine is an engine on a data root of its own whose registry mirror
// (on 127.0.0.1) has busybox.
func newEngine(t *testing.T) (*Engine, PullOptions) {
	t.Helper()
	testkit.RequireRoot(t) // the layers keep their owners and device nodes
	reg := testkit.NewRegistry(t, testkit.RegistryOptions{})
	reg.Push(t, "library/busybox:latest", testkit.BusyboxImage(t))
	e, err := Open(testkit.DataRoot(t, "engine"))
	require.NoError(t, err)
	return e, PullOptions{Mirror: reg.URL()}
}

// requireKind checks an error's kind, its HTTP status and its text.
func requireKind(t *testing.T, err error, status int, text string) {
	t.Helper()
	require.Error(t, err)
	require.Equal(t, status, errdefs.HTTPStatus(err), "status of %q", err)
	require.Contains(t, err.Error(), text)
}

func TestPullIfMissing(t *testing.T) {
	e, opts := newEngine(t)
	var r recorder
	var trace bytes.Buffer
	traced := opts
	traced.Trace = &trace
	img, err := e.PullIfMissing(context.Background(), "busybox", traced, &r)
	require.NoError(t, err)
	require.Contains(t, trace.String(), "GET ", "--trace's writer got the HTTP exchange")
	require.Equal(t, 1, r.starts, "a missing image is pulled")
	require.Equal(t, 1, r.dones)
	require.NotZero(t, r.events, "the layers' progress reached the callback")

	again, err := e.PullIfMissing(context.Background(), "busybox", opts, &r)
	require.NoError(t, err)
	require.Equal(t, img.ID, again.ID)
	require.Equal(t, 1, r.starts, "an image that is here is not pulled again")

	_, err = e.PullIfMissing(context.Background(), "BusyBox:late st", opts, nil)
	requireKind(t, err, http.StatusBadRequest, "")
	// Named on the test's registry: the mirror's 404 would send a
	// docker.io name on to Docker Hub.
	host := strings.TrimPrefix(opts.Mirror, "http://")
	_, err = e.Pull(context.Background(), host+"/library/nosuchimage", opts, nil)
	requireKind(t, err, http.StatusNotFound, "")
}

// TestErrorKinds drives each operation into Docker's refusals and checks
// the kind (and so the status a daemon will answer) and the words.
func TestErrorKinds(t *testing.T) {
	e, opts := newEngine(t)
	_, err := e.PullIfMissing(context.Background(), "busybox", opts, nil)
	require.NoError(t, err)

	o := RunOptions{ImageRef: "busybox", Name: "web", Network: "none", Args: []string{"true"}, DNS: []string{"1.2.3.4"}}
	c, err := e.Create(o)
	require.NoError(t, err)
	require.Equal(t, []string{"1.2.3.4"}, c.Config.DNS, "--dns is kept with the container")
	in, err := e.InspectContainer("web")
	require.NoError(t, err)
	require.Equal(t, []string{"1.2.3.4"}, in.HostConfig.Dns)

	_, err = e.Create(o)
	requireKind(t, err, http.StatusConflict, `Conflict. The container name "/web" is already in use by container "`+c.ID+`"`)
	require.True(t, errors.Is(err, state.ErrNameConflict), "the store's error is still wrapped")

	bad := o
	bad.Name, bad.Network = "", "nonet"
	_, err = e.Create(bad)
	// A name that is not a mode is a user network's: dockerd's
	// ErrNoSuchNetwork, a 404.
	requireKind(t, err, http.StatusNotFound, "network nonet not found")
	bad.Network, bad.DNS = "none", []string{"dns.example"}
	requireKind(t, e.Validate(bad), http.StatusBadRequest, "dns.example is not an ip address")
	bad.DNS, bad.ImageRef = nil, "nosuchimage"
	_, err = e.Create(bad)
	requireKind(t, err, http.StatusNotFound, "No such image: nosuchimage")
	bad.ImageRef, bad.Name = "busybox", "bad/name"
	_, err = e.Create(bad)
	requireKind(t, err, http.StatusBadRequest, "invalid container name")

	_, err = e.RemoveImage("busybox", false)
	requireKind(t, err, http.StatusConflict, "container "+c.ShortID()+" is using its referenced image")
	_, err = e.RemoveImage("nosuchimage", false)
	requireKind(t, err, http.StatusNotFound, "No such image: nosuchimage")

	requireKind(t, e.Stop("web", time.Second), http.StatusNotModified, "")
	requireKind(t, e.Kill("web", syscall.SIGTERM), http.StatusConflict, "cannot kill container: web: container "+c.ID+" is not running")
	requireKind(t, e.Stop("nope", time.Second), http.StatusNotFound, "No such container: nope")
	requireKind(t, e.Kill("nope", syscall.SIGKILL), http.StatusNotFound, "No such container: nope")
	requireKind(t, e.RemoveContainer("nope", false), http.StatusNotFound, "No such container: nope")
	requireKind(t, e.Logs(context.Background(), "web", LogsOptions{Tail: "-1"}, nil, nil), http.StatusBadRequest, `invalid value for "tail": "-1"`)
	_, err = ParseSignal("SIGNOPE")
	requireKind(t, err, http.StatusBadRequest, "invalid signal: SIGNOPE")

	// Containers until two IDs start with the same hex digit (16 digits:
	// within 17 containers, web included): that digit is then an
	// ambiguous prefix.
	var others []string
	seen := map[byte]bool{c.ID[0]: true}
	var shared string
	for shared == "" {
		c2, err := e.Create(RunOptions{ImageRef: "busybox", Network: "none"})
		require.NoError(t, err)
		others = append(others, c2.ID)
		if seen[c2.ID[0]] {
			shared = c2.ID[:1]
		}
		seen[c2.ID[0]] = true
		require.LessOrEqual(t, len(others), 16)
	}
	requireKind(t, e.RemoveContainer(shared, false), http.StatusBadRequest, "multiple IDs found with provided prefix: "+shared)

	code, err := e.Wait(context.Background(), "web")
	require.NoError(t, err, "a created container is not running: Wait returns at once")
	require.Equal(t, 0, code)
	list, err := e.List(false)
	require.NoError(t, err)
	require.Empty(t, list, "nothing runs")
	list, err = e.List(true)
	require.NoError(t, err)
	require.Len(t, list, 1+len(others))

	v, err := e.Inspect("busybox")
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(v.(ImageInspect).ID, "sha256:"), "busybox is an image")
	require.NoError(t, e.RemoveContainer("web", false))
	for _, id := range others {
		require.NoError(t, e.RemoveContainer(id, false))
	}
	_, err = e.Inspect("web")
	requireKind(t, err, http.StatusNotFound, "No such object: web")
	lines, err := e.RemoveImage("busybox", false)
	require.NoError(t, err, "no container uses it any more")
	require.Contains(t, strings.Join(lines, "\n"), "Untagged: busybox:latest")
}
