package attach

import (
	"slices"
	"testing"
)

func TestFlagsOrderAndNames(t *testing.T) {
	r := Report{
		Executable: true, Macros: true, Encrypted: true, Bomb: true, Malformed: true,
		NameMismatch: true, DoubleExtension: true, RTLO: true, Partial: true,
		ActiveContent: []string{DDE, RemoteTemplate},
	}
	want := []string{"executable", "macros", "encrypted", "bomb", "malformed",
		"name-mismatch", "double-extension", "rtlo", "dde", "remote-template", "partial"}
	if got := r.Flags(); !slices.Equal(got, want) {
		t.Errorf("Flags() = %v, want %v", got, want)
	}
	if got := (Report{Type: TypePDF, Name: "a.pdf"}).Flags(); len(got) != 0 {
		t.Errorf("clean report has flags %v", got)
	}
}

func TestAddActiveSortedDistinct(t *testing.T) {
	var r Report
	for _, k := range []string{RemoteTemplate, ActiveX, DDE, ActiveX, OLEObject, DDE} {
		r.addActive(k)
	}
	want := []string{ActiveX, DDE, OLEObject, RemoteTemplate}
	if !slices.Equal(r.ActiveContent, want) {
		t.Errorf("ActiveContent = %v, want %v", r.ActiveContent, want)
	}
}

func TestAbsorbRaisesMemberFindings(t *testing.T) {
	parent := Report{Type: TypeZip, ActiveContent: []string{DDE}}
	child := Report{Executable: true, RTLO: true, Partial: true, ActiveContent: []string{ActiveX, DDE}}
	parent.absorb(&child)
	if !parent.Executable || !parent.RTLO || !parent.Partial || parent.Macros {
		t.Errorf("absorb: %+v", parent)
	}
	if !slices.Equal(parent.ActiveContent, []string{ActiveX, DDE}) {
		t.Errorf("ActiveContent = %v", parent.ActiveContent)
	}
}

func TestNotable(t *testing.T) {
	exe := Report{Executable: true}
	if !exe.notable(false) || exe.notable(true) {
		t.Error("an executable member is notable in a plain archive only: jars are full of classes")
	}
	if (&Report{Type: TypeText}).notable(true) {
		t.Error("a clean part is not notable")
	}
	if !(&Report{Macros: true}).notable(true) {
		t.Error("macros are notable everywhere")
	}
}
