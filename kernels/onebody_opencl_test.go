//go:build opencl

package kernels_test

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/jgillich/go-opencl/cl"
	"github.com/lossengine/lossengine/device"
	"github.com/lossengine/lossengine/device/opencl"
	"github.com/lossengine/lossengine/internal/kernelspec"
	"github.com/lossengine/lossengine/kernels"
)

// openCLDevices opens every OpenCL device, closed at the end of the test,
// or skips t when there is none.
func openCLDevices(t *testing.T) []*opencl.Device {
	t.Helper()
	for _, st := range device.List() {
		if st.Name != "opencl" {
			continue
		}
		if len(st.Devices) == 0 {
			t.Skipf("no OpenCL device present: %v", st.Err)
		}
		var out []*opencl.Device
		for _, in := range st.Devices {
			d, err := device.Open(in.Name)
			if err != nil {
				t.Fatalf("open %s: %v", in.Name, err)
			}
			t.Cleanup(func() { d.Close() })
			out = append(out, d.(*opencl.Device))
		}
		return out
	}
	t.Fatal("the opencl backend is not registered")
	return nil
}

// buildOpenCL compiles src on d's context with opencl.BuildOptions plus
// extra options, as the backend compiles its program; the program is
// released at the end of the test.
func buildOpenCL(t *testing.T, d *opencl.Device, src, extra string) *cl.Program {
	t.Helper()
	prog, err := d.Context().CreateProgramWithSource([]string{src})
	if err != nil {
		t.Fatalf("creating the program: %v", err)
	}
	t.Cleanup(prog.Release)
	if err := prog.BuildProgram(nil, opencl.BuildOptions+" "+extra); err != nil {
		var be cl.BuildError
		if errors.As(err, &be) {
			t.Fatalf("building with %q failed; build log:\n%s", opencl.BuildOptions+" "+extra, string(be))
		}
		t.Fatalf("building with %q: %v", opencl.BuildOptions+" "+extra, err)
	}
	return prog
}

// TestCompileOpenCL compiles every family's one body as OpenCL C
// (kernels.OpenCLFamilySource: opencl/<family>.cl with lemath.h and
// src/<family>.h inlined) on every OpenCL device, with the dialect's
// LE_UNROLL and, for the bodies that use it, with each of
// unrollSettings, and creates each of the family's manifest kernels from
// the program. It skips when there is no OpenCL device.
func TestCompileOpenCL(t *testing.T) {
	for _, d := range openCLDevices(t) {
		t.Run(d.Info().Name, func(t *testing.T) {
			for _, fam := range kernelspec.Families() {
				src, err := kernels.OpenCLFamilySource(fam)
				if err != nil {
					t.Fatal(err)
				}
				for _, u := range unrollVariants(t, fam) {
					name, opt := fam+"/default", ""
					if u != 0 {
						name, opt = fmt.Sprintf("%s/LE_UNROLL=%d", fam, u), fmt.Sprintf("-DLE_UNROLL=%d", u)
					}
					t.Run(name, func(t *testing.T) {
						prog := buildOpenCL(t, d, src, opt)
						for _, k := range kernelspec.Manifest {
							if k.Family != fam {
								continue
							}
							kern, err := prog.CreateKernel(k.Name)
							if err != nil {
								t.Errorf("creating kernel %s: %v", k.Name, err)
								continue
							}
							if n, err := kern.NumArgs(); err != nil || n != len(k.Args) {
								t.Errorf("%s takes %d arguments (%v), the manifest %d", k.Name, n, err, len(k.Args))
							}
							kern.Release()
						}
					})
				}
			}
		})
	}
}

// unrollRun runs the kernels of the families whose row loops unroll
// (softmax, cross_entropy) from a program built with the given options on
// d, on fixed inputs, and returns every output buffer's contents, keyed
// by kernel and argument.
func unrollRun(t *testing.T, d *opencl.Device, opt string, rows, cols int) map[string][]float32 {
	t.Helper()
	var src string
	for _, fam := range []string{"softmax", "cross_entropy"} {
		s, err := kernels.OpenCLFamilySource(fam)
		if err != nil {
			t.Fatal(err)
		}
		src += s
	}
	prog := buildOpenCL(t, d, src, opt)

	rng := rand.New(rand.NewPCG(uint64(rows), uint64(cols)))
	n := rows * cols
	randn := func(m int, scale float32) []float32 {
		v := make([]float32, m)
		for i := range v {
			v[i] = scale * float32(rng.NormFloat64())
		}
		return v
	}
	var bufs []device.Buffer
	t.Cleanup(func() {
		for _, b := range bufs {
			b.Release()
		}
	})
	alloc := func(data any) *opencl.Buffer {
		dt, m, err := device.Elems(data)
		if err != nil {
			t.Fatal(err)
		}
		b, err := d.Alloc(dt, m)
		if err != nil {
			t.Fatal(err)
		}
		bufs = append(bufs, b)
		if err := d.Write(b, data); err != nil {
			t.Fatal(err)
		}
		return b.(*opencl.Buffer)
	}
	launch := func(name string, blocks int, args ...any) {
		t.Helper()
		kern, err := prog.CreateKernel(name)
		if err != nil {
			t.Fatal(err)
		}
		defer kern.Release()
		for i, a := range args {
			switch v := a.(type) {
			case *opencl.Buffer:
				err = kern.SetArgBuffer(i, v.Mem())
			case int32:
				err = kern.SetArgInt32(i, v)
			case float32:
				err = kern.SetArgFloat32(i, v)
			default:
				t.Fatalf("%s argument %d: %T", name, i, a)
			}
			if err != nil {
				t.Fatalf("%s argument %d: %v", name, i, err)
			}
		}
		if _, err := d.Queue().EnqueueNDRangeKernel(kern, nil, []int{blocks * kernelspec.BlockSize}, []int{kernelspec.BlockSize}, nil); err != nil {
			t.Fatalf("launching %s: %v", name, err)
		}
		if err := d.Queue().Finish(); err != nil {
			t.Fatal(err)
		}
	}
	out := map[string][]float32{}
	read := func(key string, b *opencl.Buffer) {
		v := make([]float32, b.Len())
		if err := d.Read(v, b); err != nil {
			t.Fatal(err)
		}
		out[key] = v
	}

	// Logits with a few -inf, one row of all -inf and a NaN row past the
	// first, so the online log-sum-exp takes every branch.
	xv := randn(n, 3)
	for i := 0; i < n; i += 97 {
		xv[i] = float32(math.Inf(-1))
	}
	for c := range cols {
		xv[c] = float32(math.Inf(-1))
	}
	if rows > 2 {
		xv[2*cols+cols/2] = float32(math.NaN())
	}
	x := alloc(xv)
	r, c := int32(rows), int32(cols)
	const invTau = float32(0.7)

	lse := alloc(make([]float32, rows))
	launch("logsumexp_rows", rows, x, r, c, invTau, lse)
	read("logsumexp_rows lse", lse)
	dlse, dx := alloc(randn(rows, 1)), alloc(make([]float32, n))
	launch("logsumexp_backward_rows", rows, x, lse, dlse, r, c, invTau, dx)
	read("logsumexp_backward_rows dx", dx)
	for _, logOut := range []int32{0, 1} {
		y := alloc(make([]float32, n))
		launch("softmax_rows", rows, x, r, c, invTau, logOut, y)
		read(fmt.Sprintf("softmax_rows(log_out=%d) y", logOut), y)
		dy, dxs := alloc(randn(n, 1)), alloc(make([]float32, n))
		launch("softmax_backward_rows", rows, y, dy, r, c, invTau, logOut, dxs)
		read(fmt.Sprintf("softmax_backward_rows(log_out=%d) dx", logOut), dxs)
	}

	tv := make([]int32, rows)
	for i := range tv {
		tv[i] = int32(rng.IntN(cols))
	}
	tv[rows-1] = -100 // ignored
	target := alloc(tv)
	wv := randn(cols, 1)
	for i := range wv {
		wv[i] = 0.5 + float32(math.Abs(float64(wv[i])))
	}
	weight := alloc(wv)
	for _, hw := range []int32{0, 1} {
		for _, eps := range []float32{0, 0.1} {
			key := fmt.Sprintf("cross_entropy_rows(has_weight=%d, eps=%g)", hw, eps)
			denom := alloc(make([]float32, 2))
			launch("cross_entropy_weight_sum", 1, target, weight, r, c, hw, int32(-100), kernelspec.ReductionMean, denom)
			grad, loss, lsev := alloc(make([]float32, n)), alloc(make([]float32, rows)), alloc(make([]float32, rows))
			launch("cross_entropy_rows", rows, x, target, weight, r, c, hw, int32(-100), eps, denom,
				int32(1), grad, loss, int32(1), lsev)
			read(key+" grad", grad)
			read(key+" loss_rows", loss)
			read(key+" lse", lsev)
		}
	}
	return out
}

// TestUnrollBitwiseOpenCL checks on every OpenCL device that the row
// loops of src/softmax.h and src/cross_entropy.h give bitwise the same
// results whatever LE_UNROLL is (a thread visits its columns in the same
// order), on rows shorter than a block and rows that end partway through
// an unrolled trip. It skips when there is no OpenCL device.
func TestUnrollBitwiseOpenCL(t *testing.T) {
	for _, d := range openCLDevices(t) {
		t.Run(d.Info().Name, func(t *testing.T) {
			for _, shape := range [][2]int{{4, 100}, {5, 3000}} {
				rows, cols := shape[0], shape[1]
				want := unrollRun(t, d, "", rows, cols)
				for _, u := range unrollSettings {
					got := unrollRun(t, d, fmt.Sprintf("-DLE_UNROLL=%d", u), rows, cols)
					for key, w := range want {
						g := got[key]
						for i := range w {
							if math.Float32bits(g[i]) != math.Float32bits(w[i]) && !(g[i] != g[i] && w[i] != w[i]) {
								t.Errorf("%dx%d, LE_UNROLL=%d: %s[%d] = %v, the dialect's default gives %v",
									rows, cols, u, key, i, g[i], w[i])
								break
							}
						}
					}
				}
			}
		})
	}
}
