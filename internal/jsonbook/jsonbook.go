// Package jsonbook is the locked read-modify-write of a small JSON file
// that many processes share, a "book": ipam's addresses and portmap's
// ports. One change at a time, across processes:
//
//  1. take the book's flock (internal/flock);
//  2. read the file; a missing one is an empty book;
//  3. let the caller look and change it;
//  4. if it changed, write it back with atomicfile (a reader, or a crash,
//     sees the old book or the new one, never a mix).
package jsonbook

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"

	"minidocker/internal/atomicfile"
	"minidocker/internal/flock"
)

// Book is one JSON file of type T and its lock file.
type Book[T any] struct {
	File, Lock string
	// New returns an empty book (its maps made): what a missing file
	// holds, and what the file is decoded into.
	New func() T
	// Check, if set, validates a book read from File, and may fill in
	// what an older file lacked (a nil map).
	Check func(*T) error
}

// Update runs fn on the book under the lock, and writes the book back when
// fn says it changed it. fn's error is returned as it is.
func (b Book[T]) Update(fn func(*T) (changed bool, err error)) error {
	unlock, err := flock.Lock(b.Lock)
	if err != nil {
		return err
	}
	defer unlock()

	v := b.New()
	data, err := os.ReadFile(b.File)
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return err
	default:
		if err := json.Unmarshal(data, &v); err != nil {
			return fmt.Errorf("read %s: %w", b.File, err)
		}
		if b.Check != nil {
			if err := b.Check(&v); err != nil {
				return fmt.Errorf("read %s: %w", b.File, err)
			}
		}
	}
	changed, err := fn(&v)
	if err != nil || !changed {
		return err
	}
	if data, err = json.MarshalIndent(v, "", "  "); err != nil {
		return err
	}
	return atomicfile.Write(b.File, data, 0o600)
}
