package tencentim

import (
	"cmp"
	"maps"
	"slices"
	"strconv"
)

// typeRules are what a group type supports.
type typeRules struct {
	// members: keeps a member list (AVChatRoom does not).
	members bool
	// applyJoin: can be joined by application, so ApplyJoinOption applies.
	applyJoin bool
	// inviteJoin: members can invite others, so InviteJoinOption applies.
	inviteJoin bool
	// maxMembers is the default and highest MaxMemberNum (the Ultimate edition's;
	// 0: no limit).
	maxMembers int
	// apply and invite are the default join options.
	apply, invite string
}

var groupTypes = map[string]typeRules{
	"Private":    {members: true, inviteJoin: true, maxMembers: 6000, invite: "FreeAccess"},
	"Public":     {members: true, applyJoin: true, inviteJoin: true, maxMembers: 6000, apply: "NeedPermission", invite: "NeedPermission"},
	"ChatRoom":   {members: true, applyJoin: true, inviteJoin: true, maxMembers: 6000, apply: "FreeAccess", invite: "FreeAccess"},
	"AVChatRoom": {applyJoin: true, apply: "FreeAccess"},
	"Community":  {members: true, inviteJoin: true, maxMembers: 100000, invite: "FreeAccess"},
}

// Byte limits of the group profile.
const (
	maxNameBytes         = 30
	maxIntroductionBytes = 240
	maxNotificationBytes = 300
	maxFaceURLBytes      = 100
	maxGroupIDBytes      = 48
)

// Per-call caps.
const (
	createMemberCap = 100
	addMemberCap    = 300
	deleteMemberCap = 100
	groupInfoCap    = 50
	memberPageCap   = 200
	groupListCap    = 10000
)

var (
	applyJoinOptions  = []string{"FreeAccess", "NeedPermission", "DisableApply"}
	inviteJoinOptions = []string{"FreeAccess", "NeedPermission", "DisableInvite"}
)

// keyValue is an AppDefinedData item.
type keyValue struct {
	Key   string `json:"Key"`
	Value string `json:"Value"`
}

type createGroupReq struct {
	Type             string     `json:"Type"`
	GroupID          string     `json:"GroupId"`
	Name             string     `json:"Name"`
	OwnerAccount     string     `json:"Owner_Account"`
	Introduction     string     `json:"Introduction"`
	Notification     string     `json:"Notification"`
	FaceURL          string     `json:"FaceUrl"`
	MaxMemberCount   int        `json:"MaxMemberCount"`
	ApplyJoinOption  string     `json:"ApplyJoinOption"`
	InviteJoinOption string     `json:"InviteJoinOption"`
	AppDefinedData   []keyValue `json:"AppDefinedData"`
	MemberList       []struct {
		MemberAccount string `json:"Member_Account"`
		Role          string `json:"Role"`
	} `json:"MemberList"`
	SupportTopic int `json:"SupportTopic"`
}

func (s *Server) createGroup(a *app, caller string, body []byte) (map[string]any, *vendorError) {
	var req createGroupReq
	if e := decode(body, &req); e != nil {
		return nil, e
	}
	rules, ok := groupTypes[req.Type]
	if !ok {
		return nil, fail(codeBadParam, "Type %q is not a group type", req.Type)
	}
	if req.Name == "" {
		return nil, fail(codeBadParam, "Name is required")
	}
	if e := checkProfile(&req.Name, &req.Introduction, &req.Notification, &req.FaceURL); e != nil {
		return nil, e
	}
	if e := checkJoinOptions(rules, req.Type, req.ApplyJoinOption, req.InviteJoinOption); e != nil {
		return nil, e
	}
	if e := a.checkData(req.AppDefinedData); e != nil {
		return nil, e
	}
	id := req.GroupID
	if id == "" {
		id = s.assignID(req.Type)
	} else if e := checkCustomID(id, req.Type); e != nil {
		return nil, e
	}
	if g, taken := a.groups[id]; taken {
		if g.Owner == caller {
			return nil, fail(codeGroupIDMine, "group id %s is already used and you are its owner", id)
		}
		return nil, fail(codeGroupIDUsed, "group id %s is already used", id)
	}
	accounts := make([]string, 0, len(req.MemberList)+1)
	for _, m := range req.MemberList {
		accounts = append(accounts, m.MemberAccount)
	}
	switch {
	case len(accounts) > 0 && !rules.members:
		return nil, fail(codeNoPermission, "%s groups keep no member list; MemberList is not allowed", req.Type)
	case len(accounts) > createMemberCap:
		return nil, fail(codeTooManyAccounts, "MemberList has %d accounts; at most %d per request", len(accounts), createMemberCap)
	}
	if req.OwnerAccount != "" {
		accounts = append(accounts, req.OwnerAccount)
	}
	if e := a.checkImported(accounts); e != nil {
		return nil, e
	}
	g := &Group{ID: id, Type: req.Type, Name: req.Name, Introduction: req.Introduction, Notification: req.Notification,
		FaceURL: req.FaceURL, Owner: req.OwnerAccount, MaxMembers: rules.maxMembers,
		ApplyJoinOption: cmp.Or(req.ApplyJoinOption, rules.apply), InviteJoinOption: cmp.Or(req.InviteJoinOption, rules.invite),
		Created: s.clock.Now()}
	if req.MaxMemberCount > 0 && rules.maxMembers > 0 {
		if req.MaxMemberCount > rules.maxMembers {
			return nil, fail(codeBadParam, "MaxMemberCount %d is above the %s limit %d", req.MaxMemberCount, req.Type, rules.maxMembers)
		}
		g.MaxMembers = req.MaxMemberCount
	}
	if g.MaxMembers > 0 && len(accounts) > g.MaxMembers {
		return nil, fail(codeBadParam, "%d members exceed MaxMemberCount %d", len(accounts), g.MaxMembers)
	}
	if req.OwnerAccount != "" {
		g.Members = append(g.Members, Member{Account: req.OwnerAccount, Role: "Owner", Joined: s.clock.Now()})
	}
	for _, m := range req.MemberList {
		if m.MemberAccount == req.OwnerAccount || g.member(m.MemberAccount) >= 0 {
			continue
		}
		if a.maxJoinedGroups > 0 && a.joinedGroups(m.MemberAccount) >= a.maxJoinedGroups {
			return nil, fail(10037, "account %s has joined the maximum number of groups", m.MemberAccount)
		}
		g.Members = append(g.Members, Member{Account: m.MemberAccount, Role: cmp.Or(m.Role, "Member"), Joined: s.clock.Now()})
	}
	g.AppDefinedData = applyData(nil, req.AppDefinedData)
	a.groups[id] = g
	a.order = append(a.order, id)
	return map[string]any{"GroupId": id}, nil
}

type groupInfoReq struct {
	GroupIDs []string `json:"GroupIdList"`
	Filter   *struct {
		GroupBaseInfo []string `json:"GroupBaseInfoFilter"`
		MemberInfo    []string `json:"MemberInfoFilter"`
		GroupData     []string `json:"AppDefinedDataFilter_Group"`
		MemberData    []string `json:"AppDefinedDataFilter_GroupMember"`
	} `json:"ResponseFilter"`
}

func (s *Server) getGroupInfo(a *app, _ string, body []byte) (map[string]any, *vendorError) {
	var req groupInfoReq
	if e := decode(body, &req); e != nil {
		return nil, e
	}
	if len(req.GroupIDs) == 0 || len(req.GroupIDs) > groupInfoCap {
		return nil, fail(codeBadParam, "GroupIdList must have 1 to %d groups", groupInfoCap)
	}
	infos := make([]map[string]any, 0, len(req.GroupIDs))
	for _, id := range req.GroupIDs {
		g, e := a.group(id)
		if e != nil {
			infos = append(infos, map[string]any{"GroupId": id, "ErrorCode": e.code, "ErrorInfo": e.info})
			continue
		}
		info := map[string]any{"GroupId": id, "ErrorCode": 0, "ErrorInfo": ""}
		base := g.baseInfo()
		switch {
		case req.Filter == nil: // the basic form: everything
			maps.Copy(info, base)
			info["AppDefinedData"] = dataList(g.AppDefinedData, nil)
			if groupTypes[g.Type].members {
				info["MemberList"] = memberList(g.Members, nil)
			}
		default:
			for _, f := range req.Filter.GroupBaseInfo {
				if v, ok := base[f]; ok {
					info[f] = v
				}
			}
			if req.Filter.GroupData != nil {
				info["AppDefinedData"] = dataList(g.AppDefinedData, req.Filter.GroupData)
			}
			if req.Filter.MemberInfo != nil && groupTypes[g.Type].members {
				info["MemberList"] = memberList(g.Members, req.Filter.MemberInfo)
			}
		}
		infos = append(infos, info)
	}
	return map[string]any{"GroupInfo": infos}, nil
}

// baseInfo is the group's profile as get_group_info names it. The mute flag is
// answered as ShutUpAllMember, the name of the get_group_info page.
func (g *Group) baseInfo() map[string]any {
	info := map[string]any{"Type": g.Type, "Name": g.Name, "Introduction": g.Introduction,
		"Notification": g.Notification, "FaceUrl": g.FaceURL, "Owner_Account": g.Owner,
		"CreateTime": g.Created.Unix(), "ShutUpAllMember": onOff(g.MuteAll), "ApplyJoinOption": g.ApplyJoinOption}
	if groupTypes[g.Type].members { // an AVChatRoom has no member count or limit
		info["MemberNum"] = len(g.Members)
		info["MaxMemberNum"] = g.MaxMembers
	}
	if g.InviteJoinOption != "" {
		info["InviteJoinOption"] = g.InviteJoinOption
	}
	return info
}

type memberInfoReq struct {
	GroupID    string   `json:"GroupId"`
	Limit      int      `json:"Limit"`
	Offset     int      `json:"Offset"`
	Next       *string  `json:"Next"`
	MemberInfo []string `json:"MemberInfoFilter"`
	RoleFilter []string `json:"MemberRoleFilter"`
	MemberData []string `json:"AppDefinedDataFilter_GroupMember"`
}

func (s *Server) getGroupMemberInfo(a *app, _ string, body []byte) (map[string]any, *vendorError) {
	var req memberInfoReq
	if e := decode(body, &req); e != nil {
		return nil, e
	}
	g, e := a.group(req.GroupID)
	switch {
	case e != nil:
		return nil, e
	case !groupTypes[g.Type].members:
		return nil, fail(codeNoPermission, "%s groups keep no member list", g.Type)
	case req.Limit < 0 || req.Limit > memberPageCap:
		return nil, fail(codeBadParam, "Limit must be at most %d", memberPageCap)
	case g.Type == "Community" && req.Offset > 0:
		return nil, fail(codeBadParam, "Community groups page with Next, not Offset")
	}
	members := g.Members
	if len(req.RoleFilter) > 0 {
		members = slices.DeleteFunc(slices.Clone(members), func(m Member) bool { return !slices.Contains(req.RoleFilter, m.Role) })
	}
	start := req.Offset
	if g.Type == "Community" && req.Next != nil && *req.Next != "" {
		n, err := strconv.Atoi(*req.Next)
		if err != nil {
			return nil, fail(codeBadParam, "Next %q is not a cursor this server issued", *req.Next)
		}
		start = n
	}
	start = min(start, len(members))
	end := len(members)
	if req.Limit > 0 {
		end = min(start+req.Limit, len(members))
	}
	out := map[string]any{"MemberNum": len(members), "MemberList": memberList(members[start:end], req.MemberInfo)}
	if g.Type == "Community" {
		next := ""
		if end < len(members) {
			next = strconv.Itoa(end)
		}
		out["Next"] = next
	}
	return out, nil
}

type modifyReq struct {
	GroupID          string     `json:"GroupId"`
	Name             *string    `json:"Name"`
	Introduction     *string    `json:"Introduction"`
	Notification     *string    `json:"Notification"`
	FaceURL          *string    `json:"FaceUrl"`
	MaxMemberNum     *int       `json:"MaxMemberNum"`
	ApplyJoinOption  *string    `json:"ApplyJoinOption"`
	InviteJoinOption *string    `json:"InviteJoinOption"`
	ShutUpAllMember  *string    `json:"ShutUpAllMember"` // 2021 English page
	MuteAllMember    *string    `json:"MuteAllMember"`   // current Chinese page
	AppDefinedData   []keyValue `json:"AppDefinedData"`
	FromAccount      string     `json:"From_Account"`
}

func (s *Server) modifyGroupBaseInfo(a *app, _ string, body []byte) (map[string]any, *vendorError) {
	var req modifyReq
	if e := decode(body, &req); e != nil {
		return nil, e
	}
	g, e := a.group(req.GroupID)
	if e != nil {
		return nil, e
	}
	rules := groupTypes[g.Type]
	if req.Name != nil && *req.Name == "" {
		return nil, fail(codeBadParam, "Name cannot be empty")
	}
	if e := checkProfile(req.Name, req.Introduction, req.Notification, req.FaceURL); e != nil {
		return nil, e
	}
	if e := checkJoinOptions(rules, g.Type, deref(req.ApplyJoinOption), deref(req.InviteJoinOption)); e != nil {
		return nil, e
	}
	mute := req.MuteAllMember
	if mute == nil {
		mute = req.ShutUpAllMember
	}
	if mute != nil && *mute != "On" && *mute != "Off" {
		return nil, fail(codeBadParam, "the mute flag must be On or Off")
	}
	if n := req.MaxMemberNum; n != nil && rules.members {
		if *n < len(g.Members) || *n > rules.maxMembers {
			return nil, fail(codeBadParam, "MaxMemberNum must be between the member count %d and %d", len(g.Members), rules.maxMembers)
		}
	}
	if e := a.checkData(req.AppDefinedData); e != nil {
		return nil, e
	}
	assign(&g.Name, req.Name)
	assign(&g.Introduction, req.Introduction)
	assign(&g.Notification, req.Notification)
	assign(&g.FaceURL, req.FaceURL)
	assign(&g.ApplyJoinOption, req.ApplyJoinOption)
	assign(&g.InviteJoinOption, req.InviteJoinOption)
	if req.MaxMemberNum != nil && rules.members {
		g.MaxMembers = *req.MaxMemberNum
	}
	if mute != nil {
		g.MuteAll = *mute == "On"
	}
	g.AppDefinedData = applyData(g.AppDefinedData, req.AppDefinedData)
	return nil, nil
}

type addMemberReq struct {
	GroupID    string `json:"GroupId"`
	Silence    int    `json:"Silence"`
	MemberList []struct {
		MemberAccount string `json:"Member_Account"`
	} `json:"MemberList"`
}

func (s *Server) addGroupMember(a *app, _ string, body []byte) (map[string]any, *vendorError) {
	var req addMemberReq
	if e := decode(body, &req); e != nil {
		return nil, e
	}
	g, e := a.group(req.GroupID)
	switch {
	case e != nil:
		return nil, e
	case !groupTypes[g.Type].members:
		return nil, fail(codeNoPermission, "%s groups keep no member list", g.Type)
	case len(req.MemberList) == 0:
		return nil, fail(codeBadParam, "MemberList is empty")
	case len(req.MemberList) > addMemberCap:
		return nil, fail(codeTooManyAccounts, "MemberList has %d accounts; at most %d per request", len(req.MemberList), addMemberCap)
	}
	accounts := make([]string, 0, len(req.MemberList))
	for _, m := range req.MemberList {
		accounts = append(accounts, m.MemberAccount)
	}
	if e := a.checkImported(accounts); e != nil {
		return nil, e
	}
	newcomers := 0
	for _, id := range slices.Compact(slices.Sorted(slices.Values(accounts))) {
		if g.member(id) < 0 {
			newcomers++
		}
	}
	if g.MaxMembers > 0 && len(g.Members)+newcomers > g.MaxMembers {
		return nil, fail(codeGroupFull, "the group is full (MaxMemberNum %d)", g.MaxMembers)
	}
	results := make([]map[string]any, 0, len(accounts))
	for _, id := range accounts {
		result := 1
		switch {
		case g.member(id) >= 0:
			result = 2
		case a.maxJoinedGroups > 0 && a.joinedGroups(id) >= a.maxJoinedGroups:
			result = 0
		default:
			g.Members = append(g.Members, Member{Account: id, Role: "Member", Joined: s.clock.Now()})
		}
		results = append(results, map[string]any{"Member_Account": id, "Result": result})
	}
	return map[string]any{"MemberList": results}, nil
}

type deleteMemberReq struct {
	GroupID  string   `json:"GroupId"`
	Accounts []string `json:"MemberToDel_Account"`
	Silence  int      `json:"Silence"`
	Reason   string   `json:"Reason"`
}

func (s *Server) deleteGroupMember(a *app, _ string, body []byte) (map[string]any, *vendorError) {
	var req deleteMemberReq
	if e := decode(body, &req); e != nil {
		return nil, e
	}
	g, e := a.group(req.GroupID)
	switch {
	case e != nil:
		return nil, e
	case !groupTypes[g.Type].members:
		return nil, fail(codeBadParam, "%s groups keep no member list", g.Type)
	case len(req.Accounts) == 0:
		return nil, fail(codeBadParam, "MemberToDel_Account is empty")
	case len(req.Accounts) > deleteMemberCap:
		return nil, fail(codeTooManyAccounts, "MemberToDel_Account has %d accounts; at most %d per request", len(req.Accounts), deleteMemberCap)
	case g.Owner != "" && slices.Contains(req.Accounts, g.Owner):
		return nil, fail(codeBadParam, "the owner %s cannot be removed; transfer ownership first", g.Owner)
	}
	g.Members = slices.DeleteFunc(g.Members, func(m Member) bool { return slices.Contains(req.Accounts, m.Account) })
	return nil, nil
}

type changeOwnerReq struct {
	GroupID  string `json:"GroupId"`
	NewOwner string `json:"NewOwner_Account"`
}

func (s *Server) changeGroupOwner(a *app, _ string, body []byte) (map[string]any, *vendorError) {
	var req changeOwnerReq
	if e := decode(body, &req); e != nil {
		return nil, e
	}
	g, e := a.group(req.GroupID)
	switch {
	case e != nil:
		return nil, e
	case !groupTypes[g.Type].members:
		return nil, fail(codeNoPermission, "%s groups have no owner to transfer", g.Type)
	case req.NewOwner == "":
		return nil, fail(codeBadParam, "NewOwner_Account is required")
	}
	if e := a.checkImported([]string{req.NewOwner}); e != nil {
		return nil, e
	}
	i := g.member(req.NewOwner)
	if i < 0 {
		return nil, fail(codeBadParam, "the new owner %s must be a member of the group", req.NewOwner)
	}
	if old := g.member(g.Owner); old >= 0 {
		g.Members[old].Role = "Member"
	}
	g.Members[i].Role = "Owner"
	g.Owner = req.NewOwner
	return nil, nil
}

func (s *Server) destroyGroup(a *app, _ string, body []byte) (map[string]any, *vendorError) {
	var req struct {
		GroupID string `json:"GroupId"`
	}
	if e := decode(body, &req); e != nil {
		return nil, e
	}
	if _, e := a.group(req.GroupID); e != nil {
		return nil, e
	}
	delete(a.groups, req.GroupID)
	a.order = slices.DeleteFunc(a.order, func(id string) bool { return id == req.GroupID })
	return nil, nil
}

type groupListReq struct {
	Limit     int    `json:"Limit"`
	Next      uint64 `json:"Next"`
	GroupType string `json:"GroupType"`
}

func (s *Server) getAppIDGroupList(a *app, _ string, body []byte) (map[string]any, *vendorError) {
	var req groupListReq
	if e := decode(body, &req); e != nil {
		return nil, e
	}
	if req.Limit < 0 || req.Limit > groupListCap {
		return nil, fail(codeBadParam, "Limit must be at most %d", groupListCap)
	}
	limit := cmp.Or(req.Limit, groupListCap)
	var matching []string
	for _, id := range a.order {
		if req.GroupType == "" || a.groups[id].Type == req.GroupType {
			matching = append(matching, id)
		}
	}
	start := min(req.Next, uint64(len(matching)))
	end := min(start+uint64(limit), uint64(len(matching)))
	ids := make([]map[string]any, 0, end-start)
	for _, id := range matching[start:end] {
		ids = append(ids, map[string]any{"GroupId": id})
	}
	next := uint64(0) // 0: the list is complete
	if end < uint64(len(matching)) {
		next = end
	}
	return map[string]any{"TotalCount": len(matching), "GroupIdList": ids, "Next": next}, nil
}
