package keys_test

import (
	"testing"

	"github.com/vigil-operator/vigil/internal/archive/keys"
	"github.com/vigil-operator/vigil/internal/archive/keys/keystoretest"
)

func TestMemoryStoreConformance(t *testing.T) {
	keystoretest.Run(t, func(*testing.T) keys.Store { return keys.NewMemoryStore() })
}
