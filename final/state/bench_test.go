package state

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"
)

// storeWith returns a store holding n containers like the ones run makes.
func storeWith(b *testing.B, n int) (*Store, []*Container) {
	b.Helper()
	s := openStore(b)
	var cs []*Container
	for i := range n {
		c := sampleContainer(fmt.Sprintf("c%d", i))
		require.NoError(b, s.Create(c))
		cs = append(cs, c)
	}
	return s, cs
}

// BenchmarkList is what ps does: read 200 containers' two files each.
func BenchmarkList(b *testing.B) {
	s, _ := storeWith(b, 200)
	for b.Loop() {
		list, err := s.List()
		if err != nil || len(list) != 200 {
			b.Fatalf("List() = %d, %v", len(list), err)
		}
	}
}

// BenchmarkCreate creates containers into a store that holds 200.
func BenchmarkCreate(b *testing.B) {
	s, _ := storeWith(b, 200)
	for b.Loop() {
		if err := s.Create(&Container{}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkGetPrefix(b *testing.B) {
	s, cs := storeWith(b, 200)
	ref := cs[100].ShortID()
	for b.Loop() {
		if _, err := s.Get(ref); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkGetFullID(b *testing.B) {
	s, cs := storeWith(b, 200)
	for b.Loop() {
		if _, err := s.Get(cs[100].ID); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkUpdate(b *testing.B) {
	s, cs := storeWith(b, 1)
	for b.Loop() {
		if err := s.Update(cs[0].ID, func(c *Container) error { c.State.Pid++; return nil }); err != nil {
			b.Fatal(err)
		}
	}
}
