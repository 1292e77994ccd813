/*
 * fake_partial.c - a test-only DLL with only four of the five HCN endpoint
 * functions (no HcnModifyEndpoint), like an HCN too old or too cut down for
 * the agent: the backend must refuse to open it and name what is missing.
 * None of the functions is ever called.
 */
#define WIN32_LEAN_AND_MEAN
#include <windows.h>

#include <computenetwork.h>

#define EXPORT __declspec(dllexport)

EXPORT HRESULT WINAPI HcnEnumerateEndpoints(PCWSTR Query, PWSTR *Endpoints, PWSTR *ErrorRecord)
{
    return E_NOTIMPL;
}

EXPORT HRESULT WINAPI HcnOpenEndpoint(REFGUID Id, PHCN_ENDPOINT Endpoint, PWSTR *ErrorRecord)
{
    return E_NOTIMPL;
}

EXPORT HRESULT WINAPI HcnQueryEndpointProperties(HCN_ENDPOINT Endpoint, PCWSTR Query,
                                                 PWSTR *Properties, PWSTR *ErrorRecord)
{
    return E_NOTIMPL;
}

EXPORT HRESULT WINAPI HcnCloseEndpoint(HCN_ENDPOINT Endpoint)
{
    return E_NOTIMPL;
}
