package main

import (
	"bytes"
	"flag"
	"fmt"
	"go/constant"
	"go/types"
	"log"
	"os"
	"path/filepath"
	"strings"

	"github.com/mmcloughlin/avo/build"
	"github.com/mmcloughlin/avo/gotypes"
	"github.com/mmcloughlin/avo/pass"
	"github.com/mmcloughlin/avo/printer"
)

// docs are the doc comments of the functions, by name, for the output.
var docs = map[string][]string{}

// hostPkg stands for package host in the signatures: it declares the
// types and the constant they name. Only their sizes and names matter.
var hostPkg = func() *types.Package {
	p := types.NewPackage("github.com/lossengine/lossengine/host", "host")
	for _, n := range []string{"pwArgs", "ceRowArgs"} {
		tn := types.NewTypeName(0, p, n, nil)
		types.NewNamed(tn, types.NewStruct(nil, nil), nil)
		p.Scope().Insert(tn)
	}
	p.Scope().Insert(types.NewConst(0, p, "pwNConst", types.Typ[types.UntypedInt], constant.MakeInt64(int64(len(constNames)))))
	return p
}()

// signature parses the Go function type expr in package host.
func signature(expr string) *gotypes.Signature {
	s, err := gotypes.ParseSignatureInPackage(hostPkg, expr)
	if err != nil {
		log.Fatalf("asmgen: %s: %v", expr, err)
	}
	return s
}

// file is one output file: its name, the comment at its top and what
// goes in it.
type file struct {
	name string
	doc  []string
	gen  func(c *build.Context)
}

var files = []file{
	{"ctc_amd64.s", []string{
		"AVX2/FMA loops of the float32 CTC mirror (ctc_amd64.go declares them,",
		"ctcvec.go drives them and has their error analysis; ctcfast.go and",
		"softmax.go have the pure-Go loops they replace). They run only when",
		"ctcVec (hasAVX2FMA). Operand order is Go's: the destination last,",
		"and VCMPPD $p, b, a, dst sets dst = (a p b). The constants are static",
		"data, four (eight) copies of each for memory operands; the generator",
		"(ctc.go) says what each is.",
	}, ctc},
	{"clip_amd64.s", []string{
		"AVX loops of the clip family's host mirror (clip.go): float64 sums and",
		"maxima of squares.",
	}, clip},
	{"pw_amd64.s", []string{
		"AVX2/FMA3 loops of pointwise_loss's float32 mirror, for chunks without",
		"weight or mask: each reads 8 elements of x, y (and a) per step and",
		"writes the loss and the gradients (times gs), computing what",
		"pointwiseOp computes for the op. exp and log are Cephes-style",
		"polynomials (about 1 ulp), as expf is. R12 holds the constant table",
		"pwConst (pw_vec.go): entry i at 32·i(R12); constOffsets below.",
		"",
		"Operand order is Go's: the destination is last, and for",
		"VCMPPS/VMINPS/VMAXPS/VBLENDVPS the first operand is Intel's last source",
		"(the one MINPS/MAXPS return when either is NaN).",
		"",
	}, func(c *build.Context) {
		v := vec{c: c}
		v.both()
		v.linear8()
		v.gaussian()
		v.expShiftSum()
		v.max8()
		v.softmaxBwdLog()
	}},
	{"pw512_amd64.s", []string{
		"AVX-512F loops of pointwise_loss's float32 mirror for the exp/log-bound",
		"ops: the loops of pw_amd64.s with 16 lanes, from the same generator",
		"functions. Constants are broadcast from lane 0 of pwConst's entries;",
		"comparisons go to mask registers. exp scales by 2^n with VSCALEFPS;",
		"log takes exponent and mantissa with VGETEXPPS and VGETMANTPS",
		"(subnormals included).",
		"",
	}, func(c *build.Context) {
		v := vec{c: c, z: true}
		v.both()
		v.gaussian()
		v.expShiftSum()
		v.ceProbRow16()
		v.softmaxBwdLog()
	}},
}

func init() {
	for i := range files {
		if strings.HasPrefix(files[i].name, "pw") {
			files[i].doc = append(files[i].doc, constOffsets()...)
		}
	}
}

// constOffsets lists the offsets of the constant table's entries, for
// reading the loops.
func constOffsets() []string {
	lines := []string{"Offsets of pwConst's entries (R12):"}
	line := ""
	for i, n := range constNames {
		e := fmt.Sprintf("%s %d", n, 32*i)
		if len(line)+len(e) > 70 {
			lines = append(lines, strings.TrimSuffix(line, " "))
			line = ""
		}
		line += e + ", "
	}
	return append(lines, strings.TrimSuffix(line, ", ")+".")
}

func main() {
	// avo's build package has flags of its own on flag.CommandLine.
	fs := flag.NewFlagSet("asmgen", flag.ExitOnError)
	out := fs.String("out", ".", "directory the assembly files go to")
	_ = fs.Parse(os.Args[1:])
	for _, f := range files {
		b, err := generate(f)
		if err != nil {
			log.Fatalf("asmgen: %s: %v", f.name, err)
		}
		if err := os.WriteFile(filepath.Join(*out, f.name), b, 0o644); err != nil {
			log.Fatal(err)
		}
	}
}

// generate returns the assembly of f.
func generate(f file) ([]byte, error) {
	c := build.NewContext()
	c.ConstraintExpr("amd64,!purego")
	f.gen(c)
	ir, err := c.Result()
	if err != nil {
		return nil, err
	}
	if err := pass.Compile.Execute(ir); err != nil {
		return nil, err
	}
	cfg := printer.Config{Name: "asmgen", Argv: []string{"go", "run", ".", "-out", "../../host"}, Pkg: "host"}
	b, err := printer.NewGoAsm(cfg).Print(ir)
	if err != nil {
		return nil, err
	}
	return addDocs(b, f.doc), nil
}

// addDocs puts the file comment after the build constraint and each
// function's doc comment above its signature line.
func addDocs(b []byte, doc []string) []byte {
	var buf bytes.Buffer
	lines := strings.SplitAfter(string(b), "\n")
	for _, l := range lines {
		if strings.HasPrefix(l, "// func ") {
			name := strings.TrimPrefix(l, "// func ")
			name = name[:strings.IndexByte(name, '(')]
			for i, d := range docs[name] {
				if i == 0 {
					d = name + ": " + d
				}
				fmt.Fprintf(&buf, "%s\n", strings.TrimRight("// "+d, " "))
			}
			if len(docs[name]) > 0 {
				buf.WriteString("//\n")
			}
		}
		buf.WriteString(l)
		if strings.HasPrefix(l, "//go:build ") {
			buf.WriteString("\n")
			for _, d := range doc {
				fmt.Fprintf(&buf, "%s\n", strings.TrimRight("// "+d, " "))
			}
		}
	}
	return buf.Bytes()
}
