package whatsapp

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
)

// action runs one CAMS action on validated common parameters.
type action func(s *Sim, q url.Values) (map[string]any, *apiError)

// actions are the eight chat-group actions.
var actions = map[string]action{
	"AddChatGroup":                (*Sim).addChatGroup,
	"ListChatGroup":               (*Sim).listChatGroup,
	"UpdateChatGroup":             (*Sim).updateChatGroup,
	"DeleteChatGroup":             (*Sim).deleteChatGroup,
	"AddChatGroupInviteLink":      (*Sim).addInviteLink,
	"DeleteChatGroupInviteLink":   (*Sim).deleteInviteLink,
	"ListChatGroupParticipants":   (*Sim).listParticipants,
	"DeleteChatGroupParticipants": (*Sim).deleteParticipants,
}

// Wire structs, written from the API reference (not shared with the client).
type (
	pageParam struct {
		Index int `json:"Index"`
		Size  int `json:"Size"`
	}
	groupEntry struct {
		GroupID               string `json:"GroupId"`
		Subject               string `json:"Subject"`
		Description           string `json:"Description"`
		GroupStatus           string `json:"GroupStatus"`
		InviteLink            string `json:"InviteLink"`
		ProfilePictureFile    string `json:"ProfilePictureFile"`
		TotalParticipantCount int    `json:"TotalParticipantCount"`
		BusinessNumber        string `json:"BusinessNumber"`
		BusinessRole          string `json:"BusinessRole"`
		GroupType             string `json:"GroupType"`
	}
	participantEntry struct {
		ParticipantNumber string `json:"ParticipantNumber"`
	}
)

func (s *Sim) addChatGroup(q url.Values) (map[string]any, *apiError) {
	subject := q.Get("Subject")
	if subject == "" {
		return nil, &apiError{http.StatusBadRequest, "MissingParameter", "Subject is mandatory for this action.", "", nil}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.add(subject, q.Get("Description"))
	return map[string]any{"UniqueCode": randomHex(16)}, nil
}

func (s *Sim) listChatGroup(q url.Values) (map[string]any, *apiError) {
	pg, e := pageOf(q)
	if e != nil {
		return nil, e
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var list []groupEntry
	for _, g := range s.groups {
		if !strings.Contains(g.Subject, q.Get("Subject")) { // the filter's exactness is undocumented
			continue
		}
		if st := q.Get("GroupStatus"); st != "" && s.status(g) != st {
			continue
		}
		list = append(list, s.entry(g))
	}
	return map[string]any{"Data": map[string]any{"Total": len(list), "List": window(list, pg)}}, nil
}

func (s *Sim) updateChatGroup(q url.Values) (map[string]any, *apiError) {
	if pic := q.Get("ProfilePictureFile"); pic != "" {
		if u, err := url.Parse(pic); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, &apiError{http.StatusBadRequest, "InvalidParameter.ProfilePictureFile", "ProfilePictureFile must be the URL of a JPEG image.", "", nil}
		}
	}
	return s.withActiveGroup(q, func(g *group) map[string]any {
		for param, field := range map[string]*string{"Subject": &g.Subject, "Description": &g.Description, "ProfilePictureFile": &g.PictureSource} {
			if v := q.Get(param); v != "" {
				*field = v
			}
		}
		if pic := q.Get("ProfilePictureFile"); pic != "" {
			g.ProfilePictureFile = rehosted(pic)
		}
		g.updatedAt = s.now()                                // UPDATING for the update delay
		return map[string]any{"Result": 1, "Success": false} // Success:false next to Code OK, as documented
	})
}

func (s *Sim) deleteChatGroup(q url.Values) (map[string]any, *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	g, e := s.group(q)
	if e != nil {
		return nil, e
	}
	s.groups = slices.DeleteFunc(s.groups, func(x *group) bool { return x == g })
	return map[string]any{"Result": 1}, nil
}

func (s *Sim) addInviteLink(q url.Values) (map[string]any, *apiError) {
	return s.withActiveGroup(q, func(g *group) map[string]any {
		g.InviteLink = "https://chat.whatsapp.com/" + randomHex(11) // replaces (and so revokes) the previous one
		return map[string]any{"InviteLink": g.InviteLink}
	})
}

func (s *Sim) deleteInviteLink(q url.Values) (map[string]any, *apiError) {
	return s.withActiveGroup(q, func(g *group) map[string]any {
		revoked := 0
		if g.InviteLink != "" {
			revoked = 1
		}
		g.InviteLink = ""
		return map[string]any{"Result": revoked}
	})
}

func (s *Sim) listParticipants(q url.Values) (map[string]any, *apiError) {
	pg, e := pageOf(q)
	if e != nil {
		return nil, e
	}
	return s.withGroup(q, []string{StatusActive, StatusUpdating}, func(g *group) map[string]any {
		list := make([]participantEntry, len(g.Participants))
		for i, p := range g.Participants {
			list[i] = participantEntry{ParticipantNumber: p}
		}
		return map[string]any{"Data": map[string]any{"Total": len(list), "List": window(list, pg)}}
	})
}

func (s *Sim) deleteParticipants(q url.Values) (map[string]any, *apiError) {
	var list []participantEntry
	if err := json.Unmarshal([]byte(q.Get("List")), &list); err != nil || len(list) == 0 || len(list) > MaxParticipants {
		return nil, &apiError{http.StatusBadRequest, "InvalidParameter.List",
			fmt.Sprintf("List must be a JSON array of 1 to %d {\"ParticipantNumber\":...} objects.", MaxParticipants), "", nil}
	}
	return s.withActiveGroup(q, func(g *group) map[string]any {
		before := len(g.Participants)
		for _, p := range list {
			number := strings.TrimPrefix(p.ParticipantNumber, "+")
			g.Participants = slices.DeleteFunc(g.Participants, func(x string) bool { return x == number })
		}
		return map[string]any{"Result": before - len(g.Participants)}
	})
}

// withActiveGroup runs f on the ACTIVE group named by GroupId, under the lock:
// what changes a group waits until CAMS is done creating or updating it.
func (s *Sim) withActiveGroup(q url.Values, f func(*group) map[string]any) (map[string]any, *apiError) {
	return s.withGroup(q, []string{StatusActive}, f)
}

// withGroup runs f on the group named by GroupId if its status is one of
// statuses, under the lock.
func (s *Sim) withGroup(q url.Values, statuses []string, f func(*group) map[string]any) (map[string]any, *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	g, e := s.group(q)
	if e != nil {
		return nil, e
	}
	if st := s.status(g); !slices.Contains(statuses, st) {
		return nil, &apiError{http.StatusBadRequest, "GroupStatusInvalid", "The group is " + st + "; try again when it is ACTIVE.", "", nil}
	}
	return f(g), nil
}

// group finds the group named by GroupId. Callers hold s.mu.
func (s *Sim) group(q url.Values) (*group, *apiError) {
	id := q.Get("GroupId")
	if id == "" {
		return nil, &apiError{http.StatusBadRequest, "MissingParameter", "GroupId is mandatory for this action.", "", nil}
	}
	if g := s.find(id); g != nil {
		return g, nil
	}
	// Logged as "not-found", not "error": a call naming a GroupId no group has
	// (as the client's permission probe does) changed nothing.
	return nil, &apiError{http.StatusNotFound, "GroupNotExist", "The group " + id + " does not exist.", "not-found", nil}
}

// add stores a new CREATING group. Callers hold s.mu.
func (s *Sim) add(subject, description string) *group {
	s.nextID++
	g := &group{Group: Group{ID: fmt.Sprintf("EA%06d", s.nextID), Subject: subject, Description: description}, createdAt: s.now()}
	s.groups = append(s.groups, g)
	return g
}

// find returns the group with id. Callers hold s.mu.
func (s *Sim) find(id string) *group {
	for _, g := range s.groups {
		if g.ID == id {
			return g
		}
	}
	return nil
}

// status is the state the vendor holds g in (SetStatus), else CREATING until
// the create delay has passed, and UPDATING until the update delay has passed
// since the last update. Callers hold s.mu.
func (s *Sim) status(g *group) string {
	switch now := s.now(); {
	case g.forced != "":
		return g.forced
	case now.Sub(g.createdAt) < s.createDelay:
		return StatusCreating
	case !g.updatedAt.IsZero() && now.Sub(g.updatedAt) < s.updateDelay:
		return StatusUpdating
	}
	return StatusActive
}

// rehosted is where CAMS keeps its copy of a group picture sent as url:
// ListChatGroup reports this URL, not the one sent (the picture is uploaded to
// WhatsApp, which serves it from its own storage), so a client that compares the
// echo with what it sent would send it again on every pass.
func rehosted(url string) string {
	sum := sha256.Sum256([]byte(url))
	return "https://cams-media.ap-southeast-1.aliyuncs.com/group-picture/" + hex.EncodeToString(sum[:12]) + ".jpg"
}

// snapshot copies g for a test. Callers hold s.mu.
func (s *Sim) snapshot(g *group) Group {
	out := g.Group
	out.Status = s.status(g)
	out.Participants = slices.Clone(g.Participants)
	return out
}

// entry is g as ListChatGroup shows it. Callers hold s.mu.
func (s *Sim) entry(g *group) groupEntry {
	return groupEntry{
		GroupID: g.ID, Subject: g.Subject, Description: g.Description, GroupStatus: s.status(g),
		InviteLink: g.InviteLink, ProfilePictureFile: g.ProfilePictureFile, TotalParticipantCount: len(g.Participants),
		BusinessNumber: s.cfg.BusinessNumber, BusinessRole: "ADMIN", GroupType: "WHATSAPP",
	}
}

// pageOf reads the required Page parameter.
func pageOf(q url.Values) (pageParam, *apiError) {
	var pg pageParam
	if err := json.Unmarshal([]byte(q.Get("Page")), &pg); err != nil || pg.Index < 1 || pg.Size < 1 || pg.Size > 100 {
		return pg, &apiError{http.StatusBadRequest, "InvalidParameter.Page", `Page is mandatory: {"Index":>=1,"Size":1..100}.`, "", nil}
	}
	return pg, nil
}

// window returns page pg of items (never nil, so the JSON has a list).
func window[T any](items []T, pg pageParam) []T {
	start := min((pg.Index-1)*pg.Size, len(items))
	end := min(start+pg.Size, len(items))
	return append(make([]T, 0, end-start), items[start:end]...)
}
