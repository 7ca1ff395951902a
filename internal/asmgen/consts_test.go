package main

import (
	"fmt"
	"os"
	"regexp"
	"strings"
	"testing"
)

// TestConstNames checks constNames against the names that label the
// entries of pwConst in host/pw_vec.go, in order.
func TestConstNames(t *testing.T) {
	src, err := os.ReadFile("../../host/pw_vec.go")
	if err != nil {
		t.Fatal(err)
	}
	s := string(src)
	i := strings.Index(s, "var pwConst")
	j := strings.Index(s, "const pwNConst")
	if i < 0 || j < i {
		t.Fatal("pwConst table not found in host/pw_vec.go")
	}
	var got []string
	for _, m := range regexp.MustCompile(`(?m),\s*// (\w+)$`).FindAllStringSubmatch(s[i:j], -1) {
		got = append(got, m[1])
	}
	if strings.Join(got, " ") != strings.Join(constNames, " ") {
		t.Fatalf("pwConst entries %v\ndo not match constNames %v", got, constNames)
	}
	if !strings.Contains(s[j:], fmt.Sprintf("pwNConst = %d\n", len(constNames))) {
		t.Fatalf("pwNConst in host/pw_vec.go is not %d", len(constNames))
	}
}
