package v1alpha1_test

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/vigil-operator/vigil/internal/testenv"
)

// yamlBlock finds fenced YAML examples in Markdown.
var yamlBlock = regexp.MustCompile("(?s)```ya?ml\n(.*?)```")

// TestDocExamplesPassAdmission applies, as a dry run, every Vigil resource
// shown in docs/, so a page cannot tell users to apply YAML the API server
// refuses.
func TestDocExamplesPassAdmission(t *testing.T) {
	pages, err := filepath.Glob(filepath.Join(testenv.RepoRoot(), "docs", "*", "*.md"))
	if err != nil {
		t.Fatal(err)
	}
	top, _ := filepath.Glob(filepath.Join(testenv.RepoRoot(), "docs", "*.md"))
	pages = append(pages, top...)
	checked := 0
	for _, page := range pages {
		b, err := os.ReadFile(page)
		if err != nil {
			t.Fatal(err)
		}
		rel, _ := filepath.Rel(testenv.RepoRoot(), page)
		for _, m := range yamlBlock.FindAllSubmatch(b, -1) {
			for _, doc := range strings.Split(string(m[1]), "\n---") {
				if !strings.Contains(doc, "apiVersion: compliance.vigil.dev/") {
					continue
				}
				obj := decode(t, doc)
				obj.SetNamespace("default")
				if err := k8s.Create(context.Background(), obj, client.DryRunAll); err != nil {
					t.Errorf("%s: %s %s is refused: %v", rel, obj.GetKind(), obj.GetName(), err)
				}
				checked++
			}
		}
	}
	if checked < 6 {
		t.Fatalf("found only %d Vigil resources in docs/; each channel page shows one", checked)
	}
	t.Logf("%d examples from docs/ pass admission", checked)
}
