package naming

import (
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/util/validation"
)

func TestConnectorName(t *testing.T) {
	if got := ConnectorName("trader-li"); got != "trader-li-connector" {
		t.Fatalf("short name = %q", got)
	}
	long1 := strings.Repeat("a", 60)
	long2 := strings.Repeat("a", 59) + "b"
	n1, n2 := ConnectorName(long1), ConnectorName(long2)
	if n1 == n2 {
		t.Fatal("long names that differ only at the end must not collide")
	}
	for _, n := range []string{n1, n2, ConnectorName(strings.Repeat("x-", 40))} {
		if len(n) > MaxConnectorName {
			t.Fatalf("%q is longer than %d", n, MaxConnectorName)
		}
		if errs := validation.IsDNS1035Label(n); len(errs) > 0 {
			t.Fatalf("%q is not a valid Service name: %v", n, errs)
		}
	}
}
