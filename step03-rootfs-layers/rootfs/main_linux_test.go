package rootfs

import (
	"os"
	"testing"

	"minidocker/step02-namespaces/namespaces"
)

func TestMain(m *testing.M) {
	namespaces.Init(Stage)
	os.Exit(m.Run())
}
