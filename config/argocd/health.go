// Package argocd holds the Argo CD health check for the im.chatgroup.io kinds
// (health.lua) and runs it the way Argo CD does, with the same embedded Lua
// interpreter, so that tests can check the script against real objects.
package argocd

import (
	"context"
	_ "embed"
	"fmt"
	"time"

	lua "github.com/yuin/gopher-lua"
)

// Script is health.lua.
//
//go:embed health.lua
var Script string

// Status is what a health script returns.
type Status struct {
	Status  string
	Message string
}

// validStatuses are the health codes Argo CD accepts from a script; it shows
// anything else as Unknown.
var validStatuses = map[string]bool{
	"Healthy": true, "Progressing": true, "Degraded": true, "Suspended": true, "Missing": true, "Unknown": true,
}

// Health runs Script against obj (an object as decoded from JSON).
func Health(obj map[string]any) (Status, error) {
	return run(Script, obj)
}

// run executes script as Argo CD's controller does: only the package, base and
// table libraries are open (no string or math), obj is the global "obj", the
// script must return a table within a second.
func run(script string, obj map[string]any) (Status, error) {
	l := lua.NewState(lua.Options{SkipOpenLibs: true})
	defer l.Close()
	for name, open := range map[string]lua.LGFunction{
		lua.LoadLibName: lua.OpenPackage, lua.BaseLibName: lua.OpenBase, lua.TabLibName: lua.OpenTable,
	} {
		if err := l.CallByParam(lua.P{Fn: l.NewFunction(open), Protect: true}, lua.LString(name)); err != nil {
			return Status{}, fmt.Errorf("open lua library %s: %w", name, err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	l.SetContext(ctx)
	l.SetGlobal("obj", toLua(l, obj))
	if err := l.DoString(script); err != nil {
		return Status{}, err
	}
	tbl, ok := l.Get(-1).(*lua.LTable)
	if !ok {
		return Status{}, fmt.Errorf("health script returned %s, not a table", l.Get(-1).Type())
	}
	st := Status{Status: lua.LVAsString(tbl.RawGetString("status")), Message: lua.LVAsString(tbl.RawGetString("message"))}
	if !validStatuses[st.Status] {
		return Status{}, fmt.Errorf("health script returned an invalid status %q", st.Status)
	}
	return st, nil
}

// toLua converts a JSON-decoded value into Lua values as Argo CD does: objects
// and arrays become tables, every number a Lua number.
func toLua(l *lua.LState, v any) lua.LValue {
	switch v := v.(type) {
	case nil:
		return lua.LNil
	case bool:
		return lua.LBool(v)
	case string:
		return lua.LString(v)
	case float64:
		return lua.LNumber(v)
	case int64:
		return lua.LNumber(v)
	case int:
		return lua.LNumber(v)
	case []any:
		t := l.CreateTable(len(v), 0)
		for _, item := range v {
			t.Append(toLua(l, item))
		}
		return t
	case map[string]any:
		t := l.CreateTable(0, len(v))
		for k, item := range v {
			t.RawSetString(k, toLua(l, item))
		}
		return t
	}
	return lua.LNil
}
