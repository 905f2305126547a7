package wecomarchive

import (
	"runtime"
	"sync"

	"github.com/vigil-operator/vigil/internal/wxcrypt"
)

// unwrapped is the RSA step's result for one chatdata element.
type unwrapped struct {
	key []byte
	err error
}

// unwrapAll runs the RSA unwrap of every element on all CPUs: it is most of
// a message's cost (a 2048-bit private-key operation) and pure Go. The
// SDK's DecryptData stays sequential: the vendor does not say it is
// thread-safe.
func unwrapAll(ring *wxcrypt.KeyRing, cds []ChatData) []unwrapped {
	out := make([]unwrapped, len(cds))
	workers := min(runtime.GOMAXPROCS(0), len(cds))
	if workers <= 1 {
		for i, cd := range cds {
			out[i].key, out[i].err = ring.UnwrapRandomKey(cd.PublicKeyVer, cd.EncryptRandomKey)
		}
		return out
	}
	var wg sync.WaitGroup
	next := make(chan int)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				out[i].key, out[i].err = ring.UnwrapRandomKey(cds[i].PublicKeyVer, cds[i].EncryptRandomKey)
			}
		}()
	}
	for i := range cds {
		next <- i
	}
	close(next)
	wg.Wait()
	return out
}
