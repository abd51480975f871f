-- Argo CD health check for the im.chatgroup.io kinds (ChatGroup, ChatProvider,
-- ClusterChatProvider). Register it in argocd-cm under
-- resource.customizations.health.im.chatgroup.io_<Kind>; see docs/gitops.md.
--
-- It reads the operator's kstatus conditions:
--   Suspended    spec.suspend is true: the operator makes no vendor calls
--   Degraded     Stalled=True for the current generation: a change by you is needed
--                (RemovalsHeld included: removals wait for your approval)
--   Healthy      Ready=True and status.observedGeneration is metadata.generation,
--                or ObserveOnly's DriftDetected: the difference is only reported
--   Progressing  anything else: not reconciled yet, retrying, or the vendor is
--                still working (e.g. an asynchronous WhatsApp create)
--
-- Argo CD runs health scripts with only the base, table and os libraries, so
-- this script uses no string or math functions.

local hs = {status = "Progressing", message = "Waiting for the operator to reconcile this object"}

if obj.spec ~= nil and obj.spec.suspend == true then
  hs.status = "Suspended"
  hs.message = "spec.suspend is true: the operator makes no vendor calls"
  return hs
end

if obj.status == nil or obj.status.conditions == nil then
  return hs
end

local generation = obj.metadata.generation
local ready = nil
local stalled = nil
for _, c in ipairs(obj.status.conditions) do
  if c.type == "Ready" then
    ready = c
  elseif c.type == "Stalled" then
    stalled = c
  end
end

-- A condition set for an older generation says nothing about the current spec.
local function current(c)
  return c.observedGeneration == nil or c.observedGeneration == generation
end

if stalled ~= nil and stalled.status == "True" and current(stalled) then
  hs.status = "Degraded"
  hs.message = stalled.message
  return hs
end

-- managementPolicy ObserveOnly changes nothing by design: a difference from the
-- spec (reason DriftDetected, listed in status.drift) is information, not a
-- failure or work under way, as kstatus (Flux) reads it too.
if ready ~= nil and ready.reason == "DriftDetected" and current(ready) and obj.status.observedGeneration == generation then
  hs.status = "Healthy"
  hs.message = ready.message
  return hs
end

if ready ~= nil and ready.status == "True" and current(ready) and obj.status.observedGeneration == generation then
  hs.status = "Healthy"
  hs.message = ready.message
  return hs
end

if ready ~= nil and current(ready) and ready.message ~= nil then
  hs.message = ready.message
elseif generation ~= nil then
  hs.message = "Waiting for the operator to reconcile generation " .. tostring(generation)
end
return hs
