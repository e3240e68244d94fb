package engine

import (
	"errors"
	"fmt"
	"io"
	"os"

	"minidocker/final/errdefs"
	"minidocker/step03-rootfs-layers/image"
	"minidocker/step05-pull/store"
)

// Save is docker save: the images refs name, as one tar on w (see
// store.Save for the format).
func (e *Engine) Save(w io.Writer, refs []string) error {
	err := e.images.Save(w, refs)
	if errors.Is(err, store.ErrNotFound) {
		return errdefs.NotFound(err)
	}
	return err
}

// Load is docker load of the archive r (docker save's, or an OCI layout
// as a tar): it returns docker load's lines, "Loaded image: busybox:latest"
// per name, or "Loaded image ID: sha256:…" for an image without one. The
// archive is read from a temporary file in the data root: its blobs are
// found by name, in any order.
func (e *Engine) Load(r io.Reader) ([]string, error) {
	f, err := os.CreateTemp(e.Root, ".load-*.tar")
	if err != nil {
		return nil, fmt.Errorf("load: %w", err)
	}
	defer os.Remove(f.Name())
	_, err = io.Copy(f, r)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, fmt.Errorf("load: %w", err)
	}
	img, err := image.Load(f.Name())
	if err != nil {
		return nil, errdefs.InvalidParameter(err)
	}
	loaded, err := e.images.Load(img)
	if err != nil {
		return nil, err
	}
	if len(loaded.Names) == 0 {
		return []string{"Loaded image ID: " + loaded.ID.String()}, nil
	}
	var lines []string
	for _, n := range loaded.Names {
		lines = append(lines, "Loaded image: "+n)
	}
	return lines, nil
}
