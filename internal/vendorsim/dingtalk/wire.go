package dingtalk

// The simulator's own reading of the DingTalk wire format, written from the vendor
// pages (shared/vendor-docs 000 and 002) and vendor-apis.md §1. It deliberately
// shares nothing with the client package, so a field the client misnames shows
// up as a failing test instead of being agreed on twice.

// tokenRequest is POST /v1.0/oauth2/accessToken.
type tokenRequest struct {
	AppKey    string `json:"appKey"`
	AppSecret string `json:"appSecret"`
}

// tokenResponse answers tokenRequest.
type tokenResponse struct {
	AccessToken string `json:"accessToken"`
	ExpireIn    int64  `json:"expireIn"`
}

// apiError is the v1.0 error envelope.
type apiError struct {
	Code      string `json:"code"`
	Message   string `json:"message"`
	RequestID string `json:"requestid"`
}

// legacyError is the oapi envelope; errcode 0 means success. errcode 88
// carries the cause in sub_code and sub_msg.
type legacyError struct {
	ErrCode int    `json:"errcode"`
	ErrMsg  string `json:"errmsg"`
	SubCode string `json:"sub_code,omitempty"`
	SubMsg  string `json:"sub_msg,omitempty"`
}

// wireOptions is managementOptions, the same six integer flags in create and
// update. A nil field was not sent.
type wireOptions struct {
	MentionAllAuthority *int `json:"mentionAllAuthority,omitempty"`
	ShowHistoryType     *int `json:"showHistoryType,omitempty"`
	ValidationType      *int `json:"validationType,omitempty"`
	Searchable          *int `json:"searchable,omitempty"`
	ChatBannedType      *int `json:"chatBannedType,omitempty"`
	ManagementType      *int `json:"managementType,omitempty"`
}

// createRequest is POST /v1.0/im/group/create.
type createRequest struct {
	Name              string       `json:"name"`
	Owner             string       `json:"owner"`
	OwnerType         string       `json:"ownerType,omitempty"`
	UserIDList        []string     `json:"useridlist"`
	ConversationTag   *int64       `json:"conversationTag,omitempty"`
	ExtIDList         []string     `json:"extidlist,omitempty"`
	Icon              string       `json:"icon,omitempty"`
	ManagementOptions *wireOptions `json:"managementOptions,omitempty"`
}

// createResponse answers createRequest.
type createResponse struct {
	ConversationTag    int64  `json:"conversationTag"`
	OpenConversationID string `json:"openConversationId"`
	ChatID             string `json:"chatid"`
}

// updateRequest is POST /v1.0/im/group/update. Every field but chatid is optional.
type updateRequest struct {
	ChatID            string       `json:"chatid"`
	Name              *string      `json:"name,omitempty"`
	Owner             string       `json:"owner,omitempty"`
	OwnerType         string       `json:"ownerType,omitempty"`
	AddUserIDList     []string     `json:"add_useridlist,omitempty"`
	DelUserIDList     []string     `json:"del_useridlist,omitempty"`
	AddExtIDList      []string     `json:"add_extidlist,omitempty"`
	DelExtIDList      []string     `json:"del_extidlist,omitempty"`
	Icon              *string      `json:"icon,omitempty"`
	ManagementOptions *wireOptions `json:"managementOptions,omitempty"`
	// ConversationTag is not an update field; it is read only to reject a change.
	ConversationTag *int64 `json:"conversationTag,omitempty"`
}

// updateResponse answers updateRequest.
type updateResponse struct {
	Success bool `json:"success"`
}

// chatInfo is chat_info in GET /chat/get, with exactly the fields the legacy
// page lists (https://help.dingtalk.io/open/development/obtain-a-group-session,
// vendor-apis.md §1.4.3): no icon and no extidlist, which group/create and
// group/update accept but no documented read of a regular group returns.
type chatInfo struct {
	Name                string   `json:"name"`
	Owner               string   `json:"owner"`
	UserIDList          []string `json:"useridlist"`
	ConversationTag     int64    `json:"conversationTag"`
	ChatBannedType      int      `json:"chatBannedType"`
	Searchable          int      `json:"searchable"`
	ValidationType      int      `json:"validationType"`
	MentionAllAuthority int      `json:"mentionAllAuthority"`
	ManagementType      int      `json:"managementType"`
	ShowHistoryType     int      `json:"showHistoryType"`
}

// chatGetResponse answers GET /chat/get.
type chatGetResponse struct {
	legacyError
	ChatInfo *chatInfo `json:"chat_info,omitempty"`
}

// searchRequest is POST /v1.0/im/innerGroups/search.
type searchRequest struct {
	UserID     string `json:"userId"`
	SearchKey  string `json:"searchKey"`
	MaxResults int    `json:"maxResults"`
}

// searchGroup is one entry of searchResponse.
type searchGroup struct {
	OpenConversationID string `json:"openConversationId"`
	Title              string `json:"title"`
	MemberAmount       string `json:"memberAmount"`
	Icon               string `json:"icon"`
}

// searchResponse answers searchRequest.
type searchResponse struct {
	GroupInfos []searchGroup `json:"groupInfos"`
}
