// Package cel compiles and runs the CEL expressions of CompliancePolicy rules:
// conditions over the capture.v1 record and the findings of earlier rules
// (for example: an external recipient AND personal data), with cost limits in
// the manner of Kubernetes admission CEL, so a policy author cannot make a
// connector spend unbounded time on one message.
package cel

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/google/cel-go/cel"
	"github.com/google/cel-go/checker"
	"github.com/google/cel-go/common/types"
	"github.com/google/cel-go/common/types/ref"
)

// Cost limits, in CEL cost units (roughly 50-100 ns each).
const (
	// PerCallLimit stops one evaluation (about a millisecond).
	PerCallLimit = 10_000
	// EstimateLimit refuses, at compile time, expressions whose worst case
	// is more than ten evaluations' worth.
	EstimateLimit = 10 * PerCallLimit
	// MaxFindings is the size the estimator assumes for the findings list,
	// and the most findings an expression is shown.
	MaxFindings = 256
	// maxStringSize is the size the estimator assumes for strings and lists
	// of the record (a chat message's text).
	maxStringSize = 64 << 10
	// maxListSize is the size it assumes for lists, maps and untyped values
	// of the record (recipients, attachments, mentions); the run-time limit
	// catches what the estimate misses.
	maxListSize = 1024
)

var env = func() *cel.Env {
	e, err := cel.NewEnv(
		cel.Variable("record", cel.MapType(cel.StringType, cel.DynType)),
		cel.Variable("findings", cel.ListType(cel.MapType(cel.StringType, cel.DynType))),
	)
	if err != nil {
		panic(fmt.Sprintf("rule expression environment: %v", err))
	}
	return e
}()

// Program is a compiled rule expression, safe for concurrent use.
type Program struct {
	prg cel.Program
	// NeedsFindings is true when the expression cannot be true without a
	// finding, so the engine skips it for messages nothing else fired on.
	NeedsFindings bool
	// MaxCost is the compile-time worst-case estimate.
	MaxCost uint64
}

// Compile type-checks an expression to a boolean, estimates its worst-case
// cost, and works out whether it needs findings to be true.
func Compile(expr string) (*Program, error) {
	ast, iss := env.Compile(expr)
	if iss.Err() != nil {
		return nil, fmt.Errorf("expression does not compile: %w", iss.Err())
	}
	if t := ast.OutputType(); t != cel.BoolType && t != cel.DynType {
		return nil, fmt.Errorf("expression must be a boolean, it is %s", t)
	}
	est, err := env.EstimateCost(ast, sizeEstimator{})
	if err != nil {
		return nil, fmt.Errorf("while estimating the expression's cost: %w", err)
	}
	if est.Max > EstimateLimit {
		return nil, fmt.Errorf("expression may cost %d units on one message; the limit is %d (bound loops over record fields)", est.Max, EstimateLimit)
	}
	prg, err := env.Program(ast, cel.CostLimit(PerCallLimit), cel.InterruptCheckFrequency(100), cel.EvalOptions(cel.OptOptimize))
	if err != nil {
		return nil, fmt.Errorf("while building the expression's program: %w", err)
	}
	needs, err := needsFindings(ast)
	if err != nil {
		return nil, err
	}
	return &Program{prg: prg, NeedsFindings: needs, MaxCost: est.Max}, nil
}

// needsFindings evaluates the expression with no findings and the record
// unknown: if that is already false, whatever the record, the expression
// can only fire when some other rule has.
func needsFindings(ast *cel.Ast) (bool, error) {
	prg, err := env.Program(ast, cel.EvalOptions(cel.OptPartialEval), cel.CostLimit(PerCallLimit))
	if err != nil {
		return false, fmt.Errorf("while building the partial program: %w", err)
	}
	vars, err := cel.PartialVars(map[string]any{"findings": []map[string]any{}}, cel.AttributePattern("record"))
	if err != nil {
		return false, fmt.Errorf("while building partial variables: %w", err)
	}
	out, _, err := prg.Eval(vars)
	if err != nil {
		// An error on empty findings (say, findings[0]) means the same.
		return true, nil
	}
	return out == types.False, nil
}

// ErrCost is returned when an evaluation hits the per-call cost limit.
var ErrCost = errors.New("expression exceeded its cost limit")

// Eval runs the expression on a record (as a JSON-shaped map) and findings.
func (p *Program) Eval(ctx context.Context, record map[string]any, findings []map[string]any) (bool, error) {
	if len(findings) > MaxFindings {
		findings = findings[:MaxFindings]
	}
	out, _, err := p.prg.ContextEval(ctx, map[string]any{"record": record, "findings": findings})
	if err != nil {
		if isCostError(err) {
			return false, ErrCost
		}
		return false, fmt.Errorf("while evaluating the expression: %w", err)
	}
	b, ok := out.(ref.Val).Value().(bool)
	if !ok {
		return false, fmt.Errorf("expression returned %s, not a boolean", out.Type())
	}
	return b, nil
}

func isCostError(err error) bool {
	return strings.Contains(err.Error(), "cost limit exceeded")
}

// sizeEstimator gives the cost estimator the sizes CEL cannot know: the
// findings list is capped at MaxFindings, record strings and lists at a
// chat message's bound.
type sizeEstimator struct{}

func (sizeEstimator) EstimateSize(element checker.AstNode) *checker.SizeEstimate {
	if p := element.Path(); len(p) > 0 && p[0] == "findings" {
		if len(p) == 1 {
			return &checker.SizeEstimate{Min: 0, Max: MaxFindings}
		}
		return &checker.SizeEstimate{Min: 0, Max: 256}
	}
	if k := element.Type().Kind(); k == types.ListKind || k == types.MapKind || k == types.DynKind {
		return &checker.SizeEstimate{Min: 0, Max: maxListSize}
	}
	return &checker.SizeEstimate{Min: 0, Max: maxStringSize}
}

func (sizeEstimator) EstimateCallCost(string, string, *checker.AstNode, []checker.AstNode) *checker.CallEstimate {
	return nil
}
