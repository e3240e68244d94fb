package progress

import (
	"strings"
	"testing"

	"github.com/opencontainers/go-digest"
	"github.com/stretchr/testify/require"

	"minidocker/step05-pull/reference"
	"minidocker/step05-pull/registry"
)

func TestPlain(t *testing.T) {
	var b strings.Builder
	p := New(&b, false)
	ref := reference.MustParse("busybox")
	p.Start(ref)
	for _, e := range []registry.Progress{
		{ID: "aaaaaaaaaaaa", Status: registry.StatusAlreadyExists},
		{ID: "bbbbbbbbbbbb", Status: registry.StatusPullingFSLayer},
		{ID: "bbbbbbbbbbbb", Status: registry.StatusDownloading, Current: 1, Total: 3},
		{ID: "bbbbbbbbbbbb", Status: registry.StatusDownloading, Current: 2, Total: 3},
		{ID: "bbbbbbbbbbbb", Status: registry.StatusVerifying},
		{ID: "bbbbbbbbbbbb", Status: registry.StatusDownloadComplete},
		{ID: "bbbbbbbbbbbb", Status: registry.StatusPullComplete},
	} {
		p.Event(e)
	}
	d := digest.FromString("x")
	p.Done(d, ref, true)
	require.Equal(t, `latest: Pulling from library/busybox
aaaaaaaaaaaa: Already exists
bbbbbbbbbbbb: Pulling fs layer
bbbbbbbbbbbb: Downloading
bbbbbbbbbbbb: Verifying Checksum
bbbbbbbbbbbb: Download complete
bbbbbbbbbbbb: Pull complete
Digest: `+d.String()+`
Status: Downloaded newer image for busybox:latest
`, b.String())

	b.Reset()
	New(&b, false).Done(d, reference.MustParse("localhost:5000/x:1"), false)
	require.Equal(t, "Digest: "+d.String()+"\nStatus: Image is up to date for localhost:5000/x:1\n", b.String())
}

func TestTerminal(t *testing.T) {
	var b strings.Builder
	p := New(&b, true)
	p.Event(registry.Progress{ID: "aaaaaaaaaaaa", Status: registry.StatusPullingFSLayer})
	p.Event(registry.Progress{ID: "bbbbbbbbbbbb", Status: registry.StatusWaiting})
	p.Event(registry.Progress{ID: "aaaaaaaaaaaa", Status: registry.StatusDownloading, Current: 12_300_000, Total: 45_600_000})
	// The last redraw went back up two lines and drew both, with a bar.
	last := b.String()[strings.LastIndex(b.String(), "\x1b[2A"):]
	require.Equal(t, "\x1b[2A\x1b[2Kaaaaaaaaaaaa: Downloading [==========>                             ] 12.3MB/45.6MB\n\x1b[2Kbbbbbbbbbbbb: Waiting\n", last)
}
