#!/usr/bin/env python3
"""Writes src/simulator/served.graphql: the slice of Shopify's Admin schema the
simulator serves, copied field by field from Shopify's own introspection file
(reference §10) so names, arguments and nullability cannot drift by hand.

Usage: python3 tools/served_schema.py PATH/admin_2026-10.json > src/simulator/served.graphql

Directives added for the simulator (not Shopify's): @access(scopes, text) from
`offline_scopes`/`requiredAccess` (reference §6) and @protected(content) from
`isProtected`/`protectedContent` (reference §7). The fidelity test
(tests/integration/simulator_schema_fidelity.rs) re-checks every line.
"""
import json
import sys

SERVED = {
    "QueryRoot": "shop orders order ordersCount products product productVariant productVariants customer customers "
    "node nodes currentAppInstallation bulkOperation bulkOperations currentBulkOperation fulfillment refund return "
    "inventoryItem location",
    "Mutation": "bulkOperationRunQuery bulkOperationCancel",
    "Node": "id",
    "Shop": "id name myshopifyDomain email contactEmail currencyCode ianaTimezone timezoneOffset timezoneOffsetMinutes "
    "enabledPresentmentCurrencies taxesIncluded createdAt updatedAt plan",
    "ShopPlan": "publicDisplayName partnerDevelopment shopifyPlus",
    "Order": "id legacyResourceId name number createdAt updatedAt processedAt closed closedAt cancelledAt cancelReason "
    "displayFinancialStatus displayFulfillmentStatus returnStatus currencyCode presentmentCurrencyCode "
    "totalPriceSet currentTotalPriceSet subtotalPriceSet currentSubtotalPriceSet totalTaxSet currentTotalTaxSet "
    "totalDiscountsSet currentTotalDiscountsSet totalRefundedSet totalShippingPriceSet customer email phone "
    "billingAddress shippingAddress lineItems fulfillments refunds returns tags test confirmed fullyPaid unpaid edited "
    "sourceName note poNumber confirmationNumber customerLocale subtotalLineItemsQuantity currentSubtotalLineItemsQuantity "
    "discountCodes taxesIncluded",
    "MoneyBag": "shopMoney presentmentMoney",
    "MoneyV2": "amount currencyCode",
    "MailingAddress": "id address1 address2 city province provinceCode country countryCodeV2 zip firstName lastName "
    "name company phone",
    "LineItem": "id sku quantity currentQuantity title name variantTitle vendor variant product originalUnitPriceSet "
    "discountedUnitPriceSet originalTotalSet discountedTotalSet totalDiscountSet "
    "discountedUnitPriceAfterAllDiscountsSet refundableQuantity unfulfilledQuantity nonFulfillableQuantity "
    "requiresShipping taxable isGiftCard restockable",
    "Fulfillment": "id legacyResourceId name status displayStatus createdAt updatedAt deliveredAt inTransitAt "
    "estimatedDeliveryAt trackingInfo requiresShipping totalQuantity location order",
    "FulfillmentTrackingInfo": "company number url",
    "Refund": "id legacyResourceId createdAt processedAt updatedAt note totalRefundedSet refundLineItems order return",
    "RefundLineItem": "id lineItem quantity restockType restocked priceSet subtotalSet totalTaxSet",
    "Return": "id name status createdAt closedAt requestApprovedAt totalQuantity order",
    "Product": "id legacyResourceId title handle status vendor productType tags createdAt updatedAt totalInventory "
    "variants variantsCount",
    "ProductVariant": "id legacyResourceId sku title displayName price compareAtPrice inventoryQuantity inventoryItem "
    "inventoryPolicy barcode position product createdAt updatedAt taxable",
    "InventoryItem": "id legacyResourceId sku tracked unitCost createdAt updatedAt inventoryLevels variants requiresShipping",
    "InventoryLevel": "id item location quantities isActive createdAt updatedAt",
    "InventoryQuantity": "id name quantity updatedAt",
    "Location": "id legacyResourceId name isActive createdAt updatedAt",
    "Customer": "id legacyResourceId firstName lastName displayName email phone defaultEmailAddress defaultPhoneNumber "
    "defaultAddress numberOfOrders amountSpent tags state note createdAt updatedAt verifiedEmail",
    "CustomerEmailAddress": "emailAddress",
    "CustomerPhoneNumber": "phoneNumber",
    "AppInstallation": "id accessScopes",
    "AccessScope": "handle description",
    "BulkOperation": "id status type errorCode createdAt completedAt objectCount rootObjectCount fileSize url "
    "partialDataUrl query",
    "BulkOperationRunQueryPayload": "bulkOperation userErrors",
    "BulkOperationCancelPayload": "bulkOperation userErrors",
    "BulkOperationUserError": "field message code",
    "UserError": "field message",
    "Count": "count precision",
    "PageInfo": "hasNextPage hasPreviousPage startCursor endCursor",
    # Introspection, so GraphiQL and code generators work against the simulator.
    "__Schema": "description types queryType mutationType subscriptionType directives",
    "__Type": "kind name description specifiedByURL fields interfaces possibleTypes enumValues inputFields ofType isOneOf",
    "__Field": "name description args type isDeprecated deprecationReason",
    "__InputValue": "name description type defaultValue isDeprecated deprecationReason",
    "__EnumValue": "name description isDeprecated deprecationReason",
    "__Directive": "name description isRepeatable locations args",
}
CONNECTIONS = ["Order", "LineItem", "Return", "Product", "ProductVariant", "InventoryLevel", "RefundLineItem",
               "Customer", "BulkOperation"]
for c in CONNECTIONS:
    SERVED[c + "Connection"] = "edges nodes pageInfo"
    SERVED[c + "Edge"] = "cursor node"

BUILTIN_SCALARS = {"String", "Int", "Float", "Boolean", "ID"}


def main(path):
    doc = json.load(open(path))
    types = {t["name"]: t for t in doc["data"]["__schema"]["types"]}
    access = {}
    for item in doc["offline_scopes"]["items"]:
        key = (item["typeName"], item.get("fieldName"))
        if item.get("offlineScopes"):
            access[key] = (item["offlineScopes"], item.get("requiredAccess") or "")

    def base(t):
        while t["kind"] in ("NON_NULL", "LIST"):
            t = t["ofType"]
        return t

    def render(t):
        if t["kind"] == "NON_NULL":
            return render(t["ofType"]) + "!"
        if t["kind"] == "LIST":
            return "[" + render(t["ofType"]) + "]"
        return t["name"]

    served_fields = {name: fields.split() for name, fields in SERVED.items()}
    leaf_types = set()
    out_fields = {}
    for tname, fnames in served_fields.items():
        t = types[tname]
        by_name = {f["name"]: f for f in t["fields"]}
        rendered = []
        for fname in fnames:
            f = by_name[fname]
            ret = base(f["type"])
            if ret["kind"] in ("OBJECT", "INTERFACE", "UNION") and ret["name"] not in served_fields:
                raise SystemExit(f"{tname}.{fname} returns unserved {ret['name']}")
            if ret["kind"] in ("SCALAR", "ENUM"):
                leaf_types.add(ret["name"])
            args = []
            for a in f["args"]:
                ab = base(a["type"])
                if ab["kind"] == "INPUT_OBJECT":
                    if a["type"]["kind"] == "NON_NULL":
                        raise SystemExit(f"{tname}.{fname} needs input object {ab['name']}")
                    continue
                leaf_types.add(ab["name"])
                default = f" = {a['defaultValue']}" if a["defaultValue"] is not None else ""
                args.append(f"{a['name']}: {render(a['type'])}{default}")
            line = "  " + fname + ("(" + ", ".join(args) + ")" if args else "") + ": " + render(f["type"])
            if f.get("isDeprecated"):
                line += f" @deprecated(reason: {json.dumps(f.get('deprecationReason') or 'No longer supported')})"
            if f.get("isProtected"):
                line += f' @protected(content: "{f["protectedContent"]}")'
            if (tname, fname) in access:
                scopes, text = access[(tname, fname)]
                line += f" @access(scopes: {json.dumps(scopes)}, text: {json.dumps(text)})"
            rendered.append(line)
        out_fields[tname] = rendered

    print("# Generated by tools/served_schema.py from Shopify's admin_2026-10 introspection")
    print("# (@shopify/dev-mcp@1.16.0). Do not edit by hand; regenerate and re-run the fidelity test.")
    print("schema { query: QueryRoot mutation: Mutation }")
    print("directive @access(scopes: [String!]!, text: String!) on FIELD_DEFINITION | OBJECT")
    print("directive @protected(content: String!) on FIELD_DEFINITION")
    for name in sorted(leaf_types):
        t = types[name]
        if t["kind"] == "SCALAR":
            if name not in BUILTIN_SCALARS:
                print(f"scalar {name}")
        else:
            values = " ".join(v["name"] for v in t["enumValues"])
            print(f"enum {name} {{ {values} }}")
    for name in SERVED:
        t = types[name]
        ifaces = [i["name"] for i in (t["interfaces"] or []) if i["name"] in served_fields]
        impl = " implements " + " & ".join(ifaces) if ifaces else ""
        kind = "interface" if t["kind"] == "INTERFACE" else "type"
        directive = ""
        if (name, None) in access:
            scopes, text = access[(name, None)]
            directive = f" @access(scopes: {json.dumps(scopes)}, text: {json.dumps(text)})"
        print(f"{kind} {name}{impl}{directive} {{")
        print("\n".join(out_fields[name]))
        print("}")


if __name__ == "__main__":
    main(sys.argv[1])
