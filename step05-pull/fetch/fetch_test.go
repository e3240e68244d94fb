package fetch

import (
	"bytes"
	"slices"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"
	"github.com/stretchr/testify/require"

	"minidocker/step05-pull/store"
)

// The rows of docker images and docker images --digests, as the docker
// CLI makes them from RepoTags and RepoDigests.
func TestPrintImages(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	id := digest.FromString("config")
	d1, d2 := digest.FromString("manifest 1"), digest.FromString("manifest 2")
	list := []store.Image{
		{ID: id, RepoTags: []string{"busybox:latest", "busybox:1", "localhost:5000/bb:x"},
			RepoDigests: []string{"busybox@" + d1.String(), "busybox@" + d2.String()},
			Created:     now.Add(-48 * time.Hour), Size: 2_000_000},
		{ID: id, RepoTags: []string{"nodigest:1"}, Size: 1000},               // tagged, digest unknown
		{ID: id, RepoDigests: []string{"pinned@" + d1.String()}, Size: 1000}, // pulled by digest alone
		{ID: id, Size: 1000}, // dangling
	}
	short := id.Encoded()[:12]
	var b bytes.Buffer
	PrintImages(&b, list, ImagesFormat{}, now)
	require.Equal(t, ""+
		"REPOSITORY          TAG       IMAGE ID       CREATED      SIZE\n"+
		"busybox             latest    "+short+"   2 days ago   2MB\n"+
		"busybox             1         "+short+"   2 days ago   2MB\n"+
		"localhost:5000/bb   x         "+short+"   2 days ago   2MB\n"+
		"nodigest            1         "+short+"   N/A          1kB\n"+
		"pinned              <none>    "+short+"   N/A          1kB\n"+
		"<none>              <none>    "+short+"   N/A          1kB\n", b.String())

	b.Reset()
	PrintImages(&b, list, ImagesFormat{Digests: true}, now)
	pad := "                                                                    "[:len(d1.String())-len("DIGEST")]
	require.Equal(t, ""+
		"REPOSITORY          TAG       DIGEST"+pad+"   IMAGE ID       CREATED      SIZE\n"+
		"busybox             latest    "+d1.String()+"   "+short+"   2 days ago   2MB\n"+
		"busybox             latest    "+d2.String()+"   "+short+"   2 days ago   2MB\n"+
		"busybox             1         "+d1.String()+"   "+short+"   2 days ago   2MB\n"+
		"busybox             1         "+d2.String()+"   "+short+"   2 days ago   2MB\n"+
		"localhost:5000/bb   x         <none>"+pad+"   "+short+"   2 days ago   2MB\n"+
		"nodigest            1         <none>"+pad+"   "+short+"   N/A          1kB\n"+
		"pinned              <none>    "+d1.String()+"   "+short+"   N/A          1kB\n"+
		"<none>              <none>    <none>"+pad+"   "+short+"   N/A          1kB\n", b.String())

	b.Reset()
	PrintImages(&b, list[:1], ImagesFormat{Quiet: true, Digests: true}, now)
	require.Equal(t, short+"\n", b.String())
}

// TestMatchImages: docker images REPOSITORY[:TAG]: a repository matches
// every tag, a tag only itself, shell patterns both; a registry's port is
// not a tag; an image keeps only its matching names.
func TestMatchImages(t *testing.T) {
	list := []store.Image{
		{RepoTags: []string{"busybox:latest", "busybox:1", "mybox:latest"}},
		{RepoTags: []string{"localhost:5000/x:1"}},
		{RepoTags: nil},
	}
	names := func(imgs []store.Image) []string {
		var out []string
		for _, img := range imgs {
			out = append(out, img.RepoTags...)
		}
		return out
	}
	for pattern, want := range map[string][]string{
		"busybox":          {"busybox:latest", "busybox:1"},
		"busybox:1":        {"busybox:1"},
		"*box:latest":      {"busybox:latest", "mybox:latest"},
		"localhost:5000/x": {"localhost:5000/x:1"},
		"localhost":        nil,
		"nothing":          nil,
	} {
		if got := names(MatchImages(list, pattern)); !slices.Equal(got, want) {
			t.Errorf("MatchImages(%q) = %v, want %v", pattern, got, want)
		}
	}
}
