package image

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

func TestCommand(t *testing.T) {
	str := func(s string) *string { return &s }
	httpd := ocispec.ImageConfig{Cmd: []string{"httpd-foreground"}}
	withEP := ocispec.ImageConfig{Entrypoint: []string{"/docker-entrypoint.sh"}, Cmd: []string{"nginx", "-g", "daemon off;"}}
	tests := []struct {
		name       string
		cfg        ocispec.ImageConfig
		entrypoint *string
		args       []string
		want       []string
		wantErr    error
	}{
		{"image Cmd", httpd, nil, nil, []string{"httpd-foreground"}, nil},
		{"args replace Cmd", httpd, nil, []string{"echo", "hi"}, []string{"echo", "hi"}, nil},
		{"Entrypoint + Cmd", withEP, nil, nil, []string{"/docker-entrypoint.sh", "nginx", "-g", "daemon off;"}, nil},
		{"args keep the Entrypoint", withEP, nil, []string{"sh"}, []string{"/docker-entrypoint.sh", "sh"}, nil},
		{"--entrypoint drops Cmd", withEP, str("sh"), nil, []string{"sh"}, nil},
		{"--entrypoint with args", withEP, str("sh"), []string{"-c", "id"}, []string{"sh", "-c", "id"}, nil},
		{"--entrypoint '' clears it", withEP, str(""), []string{"ls"}, []string{"ls"}, nil},
		{"nothing at all", ocispec.ImageConfig{}, nil, nil, nil, ErrNoCommand},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Command(tc.cfg, tc.entrypoint, tc.args)
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("Command() error = %v, want %v", err, tc.wantErr)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("Command() mismatch (-want +got):\n%s", diff)
			}
		})
	}
}
