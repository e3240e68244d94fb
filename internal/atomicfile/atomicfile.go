// Package atomicfile replaces a file so that a reader, or a crash at any
// instant, sees either the old content or the new, never a mix: the one
// way every store of the course writes its files (container state, the
// image index and blobs, address and port allocations).
//
//  1. write the new content into a temporary file in the same directory
//     (rename(2) is atomic only within one filesystem);
//  2. fsync(2) it, so its bytes are on disk before its name is;
//  3. rename(2) it over the old name: atomic;
//  4. fsync the directory, so the rename itself survives a power cut.
//
// Writing in place instead (os.WriteFile truncates first) leaves an empty
// or half-written file when the writer is killed.
package atomicfile

import (
	"os"
	"path/filepath"
)

// Write replaces path with data, with permissions perm. Writers of one
// path must take turns (every store holds its lock): the temporary name is
// fixed, ".<name>.tmp", so one that a killed writer left is reused by the
// next, never piled up.
func Write(path string, data []byte, perm os.FileMode) error { return write(path, data, perm, true) }

// WriteVolatile is Write without the two fsyncs: still all or nothing for
// a reader and for a writer killed half-way (steps 1 and 3), but not
// durable across a power cut, which may leave the old content or none. For
// state that will be deleted soon anyway (a --rm container's): an fsync
// costs 1 to 10 ms on a disk.
func WriteVolatile(path string, data []byte, perm os.FileMode) error {
	return write(path, data, perm, false)
}

func write(path string, data []byte, perm os.FileMode, durable bool) error {
	dir := filepath.Dir(path)
	f, err := os.OpenFile(filepath.Join(dir, "."+filepath.Base(path)+".tmp"), os.O_CREATE|os.O_TRUNC|os.O_WRONLY, perm)
	if err != nil {
		return err
	}
	defer os.Remove(f.Name()) // a no-op once renamed
	if _, err := f.Write(data); err == nil {
		if err = f.Chmod(perm); err == nil && durable {
			err = f.Sync()
		}
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	if err := os.Rename(f.Name(), path); err != nil {
		return err
	}
	if !durable {
		return nil
	}
	return SyncDir(dir)
}

// SyncDir fsyncs a directory: what makes a rename(2) in it durable across
// a power cut (the rename is atomic without it, not durable).
func SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return &os.PathError{Op: "fsync", Path: dir, Err: err}
	}
	return nil
}
