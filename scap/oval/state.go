package oval

import "context"

// evalState compares one item with a state (OVAL 5.11 section 5.3.6.3,
// as oscap implements it since 1.3.5):
//
//   - each state entity is compared with every item entity of the same
//     name; the results are combined by the entity's entity_check
//     (default "all"); an item entity with status "does not exist" is
//     false;
//   - with a var_ref, the item value is compared with every value of the
//     variable and those results are combined by var_check (default
//     "all"), using the variable's datatype; a variable without values
//     (flag other than complete or incomplete) is error;
//   - the state entity's check_existence (default at_least_one_exists)
//     over the statuses of the item entities of that name is ANDed with
//     the comparison;
//   - the entity results are combined by the state's operator.
//
// An item without the entity at all therefore gives unknown for that
// entity (no comparison to combine, and an existence check with nothing
// to count), which is what oscap reports; OVAL's text reads as error or
// false there, but what matters here is agreeing with oscap.
//
// The returned error is only ever the context's.
func (e *Evaluator) evalState(ctx context.Context, s *State, it Item) (Result, error) {
	var buf [8]Result // filters run this for every entry of a file tree
	rs := buf[:0]
	for _, se := range s.Entities {
		r, err := e.stateEntity(ctx, se, it)
		if err != nil {
			return Error, err
		}
		rs = append(rs, r)
	}
	return combine(s.Operator, rs), nil
}

func (e *Evaluator) stateEntity(ctx context.Context, se Entity, it Item) (Result, error) {
	if se.Datatype == "record" || len(se.Fields) > 0 {
		return Error, nil // record entities: no Item can carry one
	}
	var values []string
	valuesOK := true
	datatype := se.Datatype
	if se.VarRef != "" {
		v, err := e.varValues(ctx, se.VarRef)
		if err != nil {
			return Error, err
		}
		values, valuesOK = v.values, hasValues(v.flag)
		if vd := e.defs.Variables[se.VarRef]; vd != nil {
			datatype = vd.Datatype
		}
	}
	op := se.Operation
	var ex, dne, errs, nc int
	var buf [4]Result
	rs := buf[:0]
	for _, ie := range it.Entities {
		if ie.Name != se.Name {
			continue
		}
		switch itemStatus(ie.Status) {
		case StatusExists:
			ex++
		case StatusNotExist:
			dne++
			rs = append(rs, False)
			continue
		case StatusError:
			errs++
		case StatusNotCollected:
			nc++
		}
		switch {
		case se.VarRef == "":
			rs = append(rs, e.compare(op, datatype, ie.Value, se.Value))
		case !valuesOK:
			rs = append(rs, Error)
		default:
			var vbuf [8]Result
			vrs := vbuf[:0]
			for _, want := range values {
				vrs = append(vrs, e.compare(op, datatype, ie.Value, want))
			}
			check := se.VarCheck
			if check == "" {
				check = "all"
			}
			rs = append(rs, combine(check, vrs))
		}
	}
	check := se.EntityCheck
	if check == "" {
		check = "all"
	}
	r := combine(check, rs)
	exist := entityExistence(se.CheckExistence, ex, dne, errs, nc)
	return Combine("AND", []Result{r, exist}), nil
}

func (e *Evaluator) compare(op, datatype, actual, want string) Result {
	ok, err := Compare(e.patterns(), op, datatype, actual, want)
	switch {
	case err != nil:
		return Error
	case ok:
		return True
	}
	return False
}

// entityExistence is the check_existence table of a state entity over the
// statuses of the item entities of its name (oscap's
// oval_status_counter_get_result; nothing to count is unknown).
func entityExistence(check string, ex, dne, errs, nc int) Result {
	switch check {
	case "", "at_least_one_exists":
		switch {
		case ex >= 1:
			return True
		case errs >= 1:
			return Error
		case nc >= 1:
			return Unknown
		}
		return Unknown
	case "all_exist":
		switch {
		case ex >= 1 && dne == 0 && errs == 0 && nc == 0:
			return True
		case ex == 0 && dne == 0 && errs == 0 && nc == 0:
			return False
		case dne >= 1:
			return False
		case errs >= 1:
			return Error
		}
		return Unknown
	case "any_exist":
		switch {
		case errs == 0:
			return True
		case ex >= 1:
			return True
		}
		return Error
	case "none_exist":
		switch {
		case ex == 0 && errs == 0 && nc == 0:
			return True
		case ex >= 1:
			return False
		case errs >= 1:
			return Error
		}
		return Unknown
	case "only_one_exists":
		switch {
		case ex == 1 && errs == 0 && nc == 0:
			return True
		case ex >= 2:
			return False
		case ex == 0 && errs == 0 && nc == 1:
			return False
		case ex <= 1 && (errs >= 1 || nc >= 1):
			return Error
		}
		return Unknown
	}
	return Error
}
